"""A small OpenID Connect provider for development and the demo: it stands in for the national
identity provider, so that the single window signs people in with the authorization code flow
and PKCE exactly as it would against any standard provider (OpenID Connect Core 1.0, Discovery
1.0, RFC 6749, RFC 7636, RP-Initiated Logout 1.0). People identify with their national code or
foreign-national ID and a one-time code sent by SMS or e-mail.

The provider is written here over our own libraries (joserfc through ``core.crypto.jws`` for the
ID token, SQLAlchemy for the store) rather than over authlib's server: authlib's OAuth 2.0 and
OpenID server has no Starlette or asynchronous integration, and its grants call synchronous
storage hooks (``query_client``, ``save_authorization_code``, ``authenticate_user``…) that
cannot await an async database session. The client side (the window, and these tests) does use
authlib.

Modules: ``settings`` (IdpSettings), ``models`` (tables), ``repository`` (queries), ``service``
(registered clients and people), ``authorization`` (the authorization request's rules),
``codes`` (one-time codes, provider sessions, authorization codes), ``tokens`` (the token
exchange, ID tokens, userinfo, logout hints), ``keys`` (the signing key), ``notify`` (SMS and
e-mail), ``errors`` (OAuth errors), ``api`` (OAuth/OIDC endpoints), ``pages`` (sign-in pages),
``state`` (what the routes share), ``app``, ``cli``.
"""
