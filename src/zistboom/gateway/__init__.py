"""The gateway: carries X-Road REST calls between organisations, signed, access-checked and
logged with timestamped evidence."""
