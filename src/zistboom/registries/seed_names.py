"""The names the synthetic national registries are made of: given and family names, provinces
and cities, streets, company name words and foreign nationalities, each in Persian with its
English form.

Written as ``fa|en`` entries separated by ``;`` so a few hundred names stay readable in one
screen. Persian spellings use Persian ی and ک, and some names carry a ZWNJ (U+200C), some the
same name without it («محمدحسین», «محمد‌حسین», «محمد حسین»), as real registries hold them.
"""

from __future__ import annotations

from typing import Final, NamedTuple


class Label(NamedTuple):
    fa: str
    en: str


class City(NamedTuple):
    fa: str
    en: str
    lat: float
    lon: float


class Province(NamedTuple):
    code: str
    fa: str
    en: str
    weight: int  # population share, in hundreds of thousands (2016 census, rounded)
    cities: tuple[City, ...]  # the capital first


class Nationality(NamedTuple):
    code: str  # ISO 3166-1 alpha-3
    fa: str
    en: str
    weight: int  # in thousandths of the foreign nationals
    male: tuple[Label, ...]
    female: tuple[Label, ...]
    family: tuple[Label, ...]


def _labels(entries: str) -> tuple[Label, ...]:
    pairs = (entry.strip().split("|") for entry in entries.split(";") if entry.strip())
    return tuple(Label(fa.strip(), en.strip()) for fa, en in pairs)


MALE_GIVEN_NAMES: Final = _labels("""
محمد|Mohammad; علی|Ali; حسین|Hossein; رضا|Reza; مهدی|Mehdi; حسن|Hassan; امیر|Amir;
ابوالفضل|Abolfazl; محمدرضا|Mohammadreza; محمد‌رضا|Mohammad-Reza; محمدحسین|Mohammadhossein;
محمد‌حسین|Mohammad-Hossein; محمد حسین|Mohammad Hossein; امیرحسین|Amirhossein;
امیر‌حسین|Amir-Hossein; علیرضا|Alireza; علی‌رضا|Ali-Reza; علی‌اکبر|Aliakbar; علی‌اصغر|Aliasghar;
محمد‌علی|Mohammad-Ali; محمد‌مهدی|Mohammad-Mehdi; محمد‌جواد|Mohammad-Javad; محمد‌امین|Mohammad-Amin;
محمد‌صادق|Mohammad-Sadegh; محمد‌باقر|Mohammad-Bagher; محمد‌تقی|Mohammad-Taghi;
محمد‌کاظم|Mohammad-Kazem; عبدالله|Abdollah; عبدالرضا|Abdolreza; غلامرضا|Gholamreza;
غلام‌حسین|Gholam-Hossein; حمید|Hamid; حمیدرضا|Hamidreza; سعید|Saeed; مجید|Majid; وحید|Vahid;
جواد|Javad; مصطفی|Mostafa; مرتضی|Morteza; مجتبی|Mojtaba; احمد|Ahmad; محمود|Mahmoud;
مسعود|Masoud; مهران|Mehran; بهروز|Behrouz; بهزاد|Behzad; فرهاد|Farhad; فرشید|Farshid;
کامران|Kamran; کیوان|Keyvan; پویا|Pouya; پیمان|Peyman; آرش|Arash; آرمان|Arman; بابک|Babak;
داریوش|Dariush; کوروش|Kourosh; سیاوش|Siavash; سهراب|Sohrab; رستم|Rostam; بهرام|Bahram;
هومن|Hooman; امید|Omid; ایمان|Iman; یاسر|Yaser; یوسف|Yousef; یعقوب|Yaghoub; اسماعیل|Esmaeil;
ابراهیم|Ebrahim; موسی|Mousa; عیسی|Isa; صادق|Sadegh; کاظم|Kazem; جعفر|Jafar; باقر|Bagher;
هادی|Hadi; هاشم|Hashem; قاسم|Ghasem; کریم|Karim; رحیم|Rahim; نادر|Nader; ناصر|Naser;
منصور|Mansour; منوچهر|Manouchehr; فریدون|Fereydoun; جمشید|Jamshid; شهرام|Shahram; شهاب|Shahab;
سینا|Sina; نیما|Nima; میلاد|Milad; مهیار|Mahyar; پارسا|Parsa; آریا|Arya; آرین|Arian;
سبحان|Sobhan; طاها|Taha; یاسین|Yasin; ماهان|Mahan; بردیا|Bardia; سامان|Saman; اصغر|Asghar;
اکبر|Akbar; عباس|Abbas; عزیز|Aziz; فرزاد|Farzad; کیان|Kian; رامین|Ramin; روح‌الله|Rouhollah;
نعمت‌الله|Nematollah; حبیب‌الله|Habibollah; سیف‌الله|Seyfollah; اسدالله|Asadollah
""")

FEMALE_GIVEN_NAMES: Final = _labels("""
فاطمه|Fatemeh; زهرا|Zahra; مریم|Maryam; معصومه|Masoumeh; زینب|Zeynab; سمیه|Somayeh; سارا|Sara;
مهسا|Mahsa; نرگس|Narges; الهام|Elham; الهه|Elaheh; لیلا|Leila; مینا|Mina; نازنین|Nazanin;
نیلوفر|Niloufar; مهناز|Mahnaz; شهناز|Shahnaz; پروین|Parvin; پری|Pari; پریسا|Parisa;
پرستو|Parastoo; ژیلا|Zhila; ژاله|Zhaleh; شیرین|Shirin; شیوا|Shiva; شبنم|Shabnam; سحر|Sahar;
سمانه|Samaneh; سپیده|Sepideh; ساناز|Sanaz; سوسن|Sousan; صدیقه|Sedigheh; طاهره|Tahereh;
عاطفه|Atefeh; فرشته|Fereshteh; فریبا|Fariba; فرزانه|Farzaneh; فهیمه|Fahimeh; کبری|Kobra;
کوثر|Kowsar; گلناز|Golnaz; گلاره|Golareh; گیتی|Giti; لادن|Ladan; مژگان|Mozhgan; منیژه|Manizheh;
منیره|Monireh; مهتاب|Mahtab; مهری|Mehri; نسرین|Nasrin; نسیم|Nasim; نگار|Negar; نگین|Negin;
نفیسه|Nafiseh; هانیه|Hanieh; هستی|Hasti; یاسمن|Yasaman; یگانه|Yeganeh; آزاده|Azadeh;
آزیتا|Azita; آیدا|Aida; آتنا|Atena; آناهیتا|Anahita; اعظم|Azam; اشرف|Ashraf; افسانه|Afsaneh;
اکرم|Akram; بهاره|Bahareh; بهناز|Behnaz; بیتا|Bita; پگاه|Pegah; ترانه|Taraneh; تینا|Tina;
حدیث|Hadis; حمیده|Hamideh; حوریه|Hourieh; خدیجه|Khadijeh; دنیا|Donya; رویا|Roya;
ریحانه|Reyhaneh; رقیه|Roghayeh; زیبا|Ziba; ستاره|Setareh; سکینه|Sakineh; شقایق|Shaghayegh;
صبا|Saba; طیبه|Tayebeh; عذرا|Azra; فرح|Farah; کیمیا|Kimia; مائده|Maedeh; محدثه|Mohaddeseh;
مرضیه|Marzieh; ملیکا|Melika; نازیلا|Nazila; نوشین|Noushin; هدی|Hoda; ویدا|Vida;
فاطمه‌زهرا|Fatemeh-Zahra; ام‌البنین|Omolbanin; ملک‌تاج|Malek-Taj; گل‌بهار|Golbahar;
مه‌لقا|Mahlagha; ماه‌منیر|Mah-Monir; نیک‌آرا|Nikara
""")

FAMILY_NAMES: Final = _labels("""
احمدی|Ahmadi; محمدی|Mohammadi; حسینی|Hosseini; رضایی|Rezaei; موسوی|Mousavi; کریمی|Karimi;
جعفری|Jafari; رحیمی|Rahimi; هاشمی|Hashemi; صادقی|Sadeghi; مرادی|Moradi; حیدری|Heydari;
قاسمی|Ghasemi; کاظمی|Kazemi; ابراهیمی|Ebrahimi; اکبری|Akbari; عباسی|Abbasi; سلیمانی|Soleimani;
نوری|Nouri; زارعی|Zarei; امیری|Amiri; اسدی|Asadi; باقری|Bagheri; نجفی|Najafi; کرمی|Karami;
شریفی|Sharifi; طاهری|Taheri; یوسفی|Yousefi; عزیزی|Azizi; ملکی|Maleki; رستمی|Rostami;
سعیدی|Saeedi; فرهادی|Farhadi; یزدانی|Yazdani; شیرازی|Shirazi; تهرانی|Tehrani;
اصفهانی|Esfahani; کرمانی|Kermani; تبریزی|Tabrizi; خراسانی|Khorasani; قزوینی|Ghazvini;
رشتی|Rashti; یزدی|Yazdi; کاشانی|Kashani; همدانی|Hamedani; مشهدی|Mashhadi; گیلانی|Gilani;
لاریجانی|Larijani; طباطبایی|Tabatabaei; میرزایی|Mirzaei; بهرامی|Bahrami; فتحی|Fathi;
نیکپور|Nikpour; نیک‌پور|Nik-Pour; علی‌پور|Alipour; حسین‌پور|Hosseinpour; حسن‌پور|Hassanpour;
قلی‌پور|Gholipour; رضاپور|Rezapour; اسماعیل‌پور|Esmaeilpour; حسین‌زاده|Hosseinzadeh;
حسن‌زاده|Hassanzadeh; علیزاده|Alizadeh; علی‌زاده|Ali-Zadeh; مهدی‌زاده|Mehdizadeh;
قلی‌زاده|Gholizadeh; تقی‌زاده|Taghizadeh; نقی‌زاده|Naghizadeh; ولی‌زاده|Valizadeh;
حاجی‌زاده|Hajizadeh; کاظم‌زاده|Kazemzadeh; رحیم‌زاده|Rahimzadeh; عباس‌زاده|Abbaszadeh;
شاه‌حسینی|Shah-Hosseini; میرحسینی|Mirhosseini; میر‌محمدی|Mir-Mohammadi;
سید‌جوادی|Seyed-Javadi; نیک‌نام|Niknam; خوش‌نویس|Khoshnevis; دل‌آرام|Delaram;
پاک‌نژاد|Paknejad; نیک‌نژاد|Niknejad; ایران‌نژاد|Iran-Nejad; رحمانی|Rahmani; قربانی|Ghorbani;
رمضانی|Ramezani; شعبانی|Shabani; رجبی|Rajabi; محرمی|Moharrami; صفری|Safari; جمالی|Jamali;
کمالی|Kamali; جلالی|Jalali; افشار|Afshar; افشاری|Afshari; زند|Zand; پهلوان|Pahlavan;
دلاوری|Delavari; شجاعی|Shojaei; منصوری|Mansouri; ناصری|Naseri; نادری|Naderi; فرجی|Faraji;
فراهانی|Farahani; دهقان|Dehghan; دهقانی|Dehghani; کشاورز|Keshavarz; باغبان|Baghban;
آهنگر|Ahangar; نجار|Najjar; زرگر|Zargar; عطار|Attar; بازرگان|Bazargan; صراف|Sarraf;
خیاط|Khayyat; شاهرخی|Shahrokhi; بختیاری|Bakhtiari; کردی|Kordi; ترکمان|Torkaman; بلوچ|Baloch;
ایزدی|Izadi; سپهری|Sepehri; فروغی|Foroughi; شاملو|Shamloo; اخوان|Akhavan; مشیری|Moshiri;
حافظی|Hafezi; مولوی|Molavi; نظامی|Nezami; جامی|Jami; رودکی|Roudaki; بیهقی|Beyhaghi;
طوسی|Tousi; رازی|Razi; فارابی|Farabi; خوارزمی|Kharazmi; مقدم|Moghadam; مقدسی|Moghaddasi;
اشرفی|Ashrafi; امینی|Amini; توکلی|Tavakoli; ثابتی|Sabeti; جهانگیری|Jahangiri; چراغی|Cheraghi;
حکیمی|Hakimi; خلیلی|Khalili; داوودی|Davoudi; ذاکری|Zakeri; رسولی|Rasouli; زمانی|Zamani;
سلطانی|Soltani; شفیعی|Shafiei; صالحی|Salehi; ضیایی|Ziaei; طالبی|Talebi; ظهیری|Zahiri;
عسگری|Asgari; غفاری|Ghaffari; فاضلی|Fazeli; قدیری|Ghadiri; کیانی|Kiani; گودرزی|Goudarzi;
لطفی|Lotfi; مختاری|Mokhtari; نظری|Nazari; وکیلی|Vakili; هدایتی|Hedayati; یاری|Yari;
نوروزی|Nowrouzi; بهمنی|Bahmani; آذری|Azari; اردلان|Ardalan; ایرانی|Irani; ایرانپور|Iranpour
""")


def _cities(entries: str) -> tuple[City, ...]:
    rows = (entry.strip().split("|") for entry in entries.split(";") if entry.strip())
    return tuple(City(fa.strip(), en.strip(), float(lat), float(lon)) for fa, en, lat, lon in rows)


PROVINCES: Final = (
    Province("tehran", "تهران", "Tehran", 133, _cities(
        "تهران|Tehran|35.6892|51.3890; اسلامشهر|Eslamshahr|35.5608|51.2350;"
        "شهریار|Shahriar|35.6596|51.0592")),
    Province("razavi-khorasan", "خراسان رضوی", "Razavi Khorasan", 64, _cities(
        "مشهد|Mashhad|36.2605|59.6168; نیشابور|Neyshabur|36.2133|58.7958;"
        "سبزوار|Sabzevar|36.2126|57.6819")),
    Province("isfahan", "اصفهان", "Isfahan", 51, _cities(
        "اصفهان|Isfahan|32.6546|51.6680; کاشان|Kashan|33.9850|51.4100;"
        "نجف‌آباد|Najafabad|32.6342|51.3668")),
    Province("fars", "فارس", "Fars", 49, _cities(
        "شیراز|Shiraz|29.5918|52.5837; مرودشت|Marvdasht|29.8742|52.8025;"
        "کازرون|Kazerun|29.6195|51.6541")),
    Province("khuzestan", "خوزستان", "Khuzestan", 47, _cities(
        "اهواز|Ahvaz|31.3183|48.6706;"
        "دزفول|Dezful|32.3811|48.4058; آبادان|Abadan|30.3392|48.3043")),
    Province("east-azerbaijan", "آذربایجان شرقی", "East Azerbaijan", 39, _cities(
        "تبریز|Tabriz|38.0800|46.2919;"
        "مراغه|Maragheh|37.3917|46.2394; مرند|Marand|38.4329|45.7749")),
    Province("mazandaran", "مازندران", "Mazandaran", 33, _cities(
        "ساری|Sari|36.5633|53.0601; بابل|Babol|36.5513|52.6790; آمل|Amol|36.4696|52.3507")),
    Province("west-azerbaijan", "آذربایجان غربی", "West Azerbaijan", 33, _cities(
        "ارومیه|Urmia|37.5527|45.0761; خوی|Khoy|38.5503|44.9519; مهاباد|Mahabad|36.7631|45.7222")),
    Province("kerman", "کرمان", "Kerman", 32, _cities(
        "کرمان|Kerman|30.2839|57.0834; سیرجان|Sirjan|29.4520|55.6814;"
        "رفسنجان|Rafsanjan|30.4067|55.9939")),
    Province("sistan-and-baluchestan", "سیستان و بلوچستان", "Sistan and Baluchestan", 28, _cities(
        "زاهدان|Zahedan|29.4963|60.8629;"
        "چابهار|Chabahar|25.2919|60.6430; زابل|Zabol|31.0287|61.5012")),
    Province("alborz", "البرز", "Alborz", 27, _cities(
        "کرج|Karaj|35.8400|50.9391;"
        "فردیس|Fardis|35.7296|50.9847; نظرآباد|Nazarabad|35.9521|50.6075")),
    Province("gilan", "گیلان", "Gilan", 25, _cities(
        "رشت|Rasht|37.2808|49.5832; بندر انزلی|Bandar-e Anzali|37.4727|49.4622;"
        "لاهیجان|Lahijan|37.2072|50.0039")),
    Province("kermanshah", "کرمانشاه", "Kermanshah", 20, _cities(
        "کرمانشاه|Kermanshah|34.3142|47.0650; اسلام‌آباد غرب|Eslamabad-e Gharb|34.1094|46.5275")),
    Province("golestan", "گلستان", "Golestan", 19, _cities(
        "گرگان|Gorgan|36.8427|54.4439; گنبد کاووس|Gonbad-e Kavus|37.2500|55.1672")),
    Province("hormozgan", "هرمزگان", "Hormozgan", 18, _cities(
        "بندرعباس|Bandar Abbas|27.1832|56.2666; قشم|Qeshm|26.9581|56.2719")),
    Province("lorestan", "لرستان", "Lorestan", 18, _cities(
        "خرم‌آباد|Khorramabad|33.4878|48.3558; بروجرد|Borujerd|33.8973|48.7516")),
    Province("hamadan", "همدان", "Hamadan", 17, _cities(
        "همدان|Hamadan|34.7983|48.5148; ملایر|Malayer|34.2969|48.8235")),
    Province("kurdistan", "کردستان", "Kurdistan", 16, _cities(
        "سنندج|Sanandaj|35.3219|46.9862; سقز|Saqqez|36.2499|46.2735")),
    Province("markazi", "مرکزی", "Markazi", 14, _cities(
        "اراک|Arak|34.0917|49.6892; ساوه|Saveh|35.0213|50.3566")),
    Province("ardabil", "اردبیل", "Ardabil", 13, _cities(
        "اردبیل|Ardabil|38.2498|48.2933; پارس‌آباد|Parsabad|39.6482|47.9174")),
    Province("qazvin", "قزوین", "Qazvin", 13, _cities(
        "قزوین|Qazvin|36.2688|50.0041; تاکستان|Takestan|36.0696|49.6959")),
    Province("qom", "قم", "Qom", 13, _cities("قم|Qom|34.6416|50.8746")),
    Province("bushehr", "بوشهر", "Bushehr", 12, _cities(
        "بوشهر|Bushehr|28.9234|50.8203; برازجان|Borazjan|29.2666|51.2159")),
    Province("yazd", "یزد", "Yazd", 11, _cities(
        "یزد|Yazd|31.8974|54.3569; میبد|Meybod|32.2501|54.0166")),
    Province("zanjan", "زنجان", "Zanjan", 11, _cities(
        "زنجان|Zanjan|36.6765|48.4963; ابهر|Abhar|36.1468|49.2180")),
    Province("chaharmahal-and-bakhtiari", "چهارمحال و بختیاری", "Chaharmahal and Bakhtiari", 9,
             _cities("شهرکرد|Shahrekord|32.3256|50.8644; بروجن|Borujen|31.9652|51.2873")),
    Province("north-khorasan", "خراسان شمالی", "North Khorasan", 9, _cities(
        "بجنورد|Bojnurd|37.4747|57.3290; شیروان|Shirvan|37.3967|57.9295")),
    Province("south-khorasan", "خراسان جنوبی", "South Khorasan", 8, _cities(
        "بیرجند|Birjand|32.8663|59.2211; قائن|Qaen|33.7265|59.1844")),
    Province("kohgiluyeh-and-boyer-ahmad", "کهگیلویه و بویراحمد", "Kohgiluyeh and Boyer-Ahmad", 7,
             _cities("یاسوج|Yasuj|30.6682|51.5880; دوگنبدان|Dogonbadan|30.3586|50.7981")),
    Province("semnan", "سمنان", "Semnan", 7, _cities(
        "سمنان|Semnan|35.5729|53.3971; شاهرود|Shahroud|36.4182|54.9763")),
    Province("ilam", "ایلام", "Ilam", 6, _cities(
        "ایلام|Ilam|33.6374|46.4227; دهلران|Dehloran|32.6941|47.2679")),
)  # fmt: skip

STREETS: Final = _labels("""
خیابان آزادی|Azadi St; خیابان انقلاب|Enghelab St; خیابان ولیعصر|Valiasr St;
خیابان امام خمینی|Imam Khomeini St; خیابان شریعتی|Shariati St; خیابان فردوسی|Ferdowsi St;
خیابان حافظ|Hafez St; خیابان سعدی|Saadi St; خیابان مطهری|Motahari St; خیابان بهشتی|Beheshti St;
خیابان طالقانی|Taleghani St; خیابان جمهوری|Jomhouri St; بلوار کشاورز|Keshavarz Blvd;
بلوار آزادگان|Azadegan Blvd; بلوار معلم|Moallem Blvd; بلوار ملت|Mellat Blvd;
خیابان بهار|Bahar St; خیابان گلستان|Golestan St; خیابان پاسداران|Pasdaran St;
خیابان دانشگاه|Daneshgah St; خیابان نیایش|Niayesh St; خیابان شهید رجایی|Shahid Rajaei St
""")

ALLEYS: Final = _labels("""
کوچه لاله|Laleh Alley; کوچه نسترن|Nastaran Alley; کوچه یاس|Yas Alley; کوچه اقاقیا|Aghaghia Alley;
کوچه بنفشه|Banafsheh Alley; کوچه نرگس|Narges Alley; کوچه شقایق|Shaghayegh Alley;
کوچه سرو|Sarv Alley; کوچه دوم|2nd Alley; کوچه سوم|3rd Alley; کوچه پنجم|5th Alley;
کوچه گل‌نرگس|Gol-Narges Alley; کوچه بن‌بست مهر|Mehr Dead-end
""")

COMPANY_BRANDS: Final = _labels("""
آریا|Arya; پارس|Pars; البرز|Alborz; دماوند|Damavand; سپهر|Sepehr; کوثر|Kowsar; آفتاب|Aftab;
مهر|Mehr; نوین|Novin; پیشرو|Pishro; آینده|Ayandeh; سپید|Sepid; زاگرس|Zagros;
خلیج فارس|Persian Gulf; کاوه|Kaveh; تدبیر|Tadbir; امید|Omid; ایران|Iran; توس|Toos;
سیمرغ|Simorgh; هما|Homa; ارغوان|Arghavan; رایان|Rayan; داده‌پردازان|Dadehpardazan;
نیک‌اندیش|Nikandish; پرتو|Partow; ستاره|Setareh; فن‌آوران|Fanavaran
""")

COMPANY_SECTORS: Final = _labels("""
صنعت|Industries; تجارت|Trading; فناوری اطلاعات|Information Technology; ساختمان|Construction;
حمل و نقل|Transport; مواد غذایی|Foods; دارو|Pharmaceuticals; انرژی|Energy; کشاورزی|Agriculture;
نساجی|Textiles; فولاد|Steel; پتروشیمی|Petrochemicals; بازرگانی|Commerce;
خدمات مالی|Financial Services; گردشگری|Tourism; مهندسی|Engineering;
تجهیزات پزشکی|Medical Equipment; الکترونیک|Electronics; سیمان|Cement; لبنیات|Dairy;
بسته‌بندی|Packaging; نرم‌افزار|Software; ارتباطات|Communications; بیمه‌گری|Insurance Services
""")

NATIONALITIES: Final = (
    Nationality(
        "AFG", "افغانستان", "Afghanistan", 780,
        _labels("احمد|Ahmad; محمد|Mohammad; علی|Ali; حمید|Hamid; نجیب|Najib; ظاهر|Zaher;"
                "قدیر|Qadir; رحیم|Rahim; عبدالله|Abdullah; شفیع|Shafi; گل‌محمد|Gol-Mohammad;"
                "نورالله|Noorullah"),
        _labels("مریم|Maryam; فاطمه|Fatima; زهرا|Zahra; گلالی|Gulalai; پروانه|Parwana;"
                "شکریه|Shukria; ملالی|Malalai; فرشته|Freshta; نرگس|Narges; حمیرا|Humaira"),
        _labels("احمدزی|Ahmadzai; پوپلزی|Popalzai; نورزی|Noorzai; درانی|Durrani; کاکر|Kakar;"
                "صافی|Safi; محقق|Mohaqiq; حبیبی|Habibi; عظیمی|Azimi; رحیمی|Rahimi;"
                "حیدری|Haidari; محمدی|Mohammadi; نوری|Noori; سادات|Sadat; یوسفزی|Yousafzai"),
    ),
    Nationality(
        "IRQ", "عراق", "Iraq", 80,
        _labels("علی|Ali; حسین|Hussein; حیدر|Haidar; عباس|Abbas; مصطفی|Mustafa; کرار|Karrar"),
        _labels("زینب|Zainab; فاطمه|Fatima; نور|Noor; مریم|Maryam; رقیه|Ruqaya"),
        _labels("الجبوری|Al-Jubouri; الموسوی|Al-Mousawi; الحسینی|Al-Husseini;"
                "الربیعی|Al-Rubaie; الساعدی|Al-Saadi; الخفاجی|Al-Khafaji; العبیدی|Al-Obaidi"),
    ),
    Nationality(
        "PAK", "پاکستان", "Pakistan", 50,
        _labels("عمران|Imran; بلال|Bilal; عثمان|Usman; فیصل|Faisal; حمزه|Hamza"),
        _labels("عایشه|Ayesha; صبا|Saba; ثنا|Sana; حنا|Hina"),
        _labels("خان|Khan; شاه|Shah; ملک|Malik; قریشی|Qureshi; صدیقی|Siddiqui; چودری|Chaudhry"),
    ),
    Nationality(
        "TJK", "تاجیکستان", "Tajikistan", 20,
        _labels("فیروز|Firuz; رستم|Rustam; دلشاد|Dilshod; بهروز|Behruz"),
        _labels("مهرنگیز|Mehrangez; نگینه|Nigina; شهلا|Shahlo"),
        _labels("رحمانوف|Rahmonov; سعیدوف|Saidov; نظروف|Nazarov; کریموف|Karimov"),
    ),
    Nationality(
        "TUR", "ترکیه", "Türkiye", 20,
        _labels("امره|Emre; مراد|Murat; محمد|Mehmet; احمد|Ahmet"),
        _labels("الیف|Elif; زینب|Zeynep; عایشه|Ayse"),
        _labels("ییلماز|Yilmaz; کایا|Kaya; دمیر|Demir; اوزتورک|Ozturk"),
    ),
    Nationality(
        "AZE", "جمهوری آذربایجان", "Azerbaijan", 20,
        _labels("رشاد|Rashad; اورخان|Orkhan; الچین|Elchin; الهام|Ilham"),
        _labels("لیلا|Leyla; گونای|Gunay; آیتن|Aytan"),
        _labels("علی‌یف|Aliyev; محمداف|Mammadov; حسین‌اف|Huseynov; سلیمان‌اف|Suleymanov"),
    ),
    Nationality(
        "SYR", "سوریه", "Syria", 10,
        _labels("عمر|Omar; خالد|Khaled; سامر|Samer"),
        _labels("رنا|Rana; لینا|Lina; هبه|Heba"),
        _labels("حداد|Haddad; العلی|Al-Ali; شامی|Shami; حمصی|Homsi"),
    ),
    Nationality(
        "LBN", "لبنان", "Lebanon", 10,
        _labels("جاد|Jad; رامی|Rami; حسن|Hassan"),
        _labels("رشا|Rasha; نادین|Nadine; زینب|Zeinab"),
        _labels("خوری|Khoury; حداد|Haddad; فضل‌الله|Fadlallah; عون|Aoun"),
    ),
    Nationality(
        "IND", "هند", "India", 5,
        _labels("راهول|Rahul; امیت|Amit; ویکرام|Vikram"),
        _labels("پریا|Priya; آنجلی|Anjali; نیها|Neha"),
        _labels("شارما|Sharma; سینگ|Singh; پاتل|Patel"),
    ),
    Nationality(
        "CHN", "چین", "China", 5,
        _labels("وی|Wei; هائو|Hao; جون|Jun"),
        _labels("لینگ|Ling; یینگ|Ying; مئی|Mei"),
        _labels("وانگ|Wang; لی|Li; ژانگ|Zhang; چن|Chen"),
    ),
)  # fmt: skip

# How a generated legal entity's name and an address's street are composed.
COMPANY_NAME_FORMS: Final = {
    "company": Label("شرکت {sector} {brand} {brand2}", "{brand} {brand2} {sector} Company"),
    "cooperative": Label("شرکت تعاونی {sector} {brand}", "{brand} {sector} Cooperative"),
    "institute": Label("موسسه غیرتجاری {brand} {brand2}", "{brand} {brand2} Institute"),
}
STREET_FORM: Final = "{street}، {alley}"
