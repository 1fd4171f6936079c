/*
 * wrktls.c: NOT PART OF HTTPSERVE. A library preloaded into wrk (LD_PRELOAD) for the TLS
 * workloads: before each handshake it drops the session wrk kept from the connection's
 * previous handshake (wrk reuses one SSL per connection slot, SSL_shutdown then SSL_clear,
 * so a reconnect would otherwise resume with a ticket), and pins what every server must
 * negotiate: TLS 1.3 only, TLS_AES_128_GCM_SHA256, X25519. Every server thus does a full
 * handshake per connection with the same cryptography, whatever its own settings (httpserve
 * has no switch for its session tickets). A server that cannot agree fails the handshake,
 * which wrk counts as a connect error.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <openssl/ssl.h>

int SSL_connect(SSL *s)
{
	static int (*real)(SSL *);
	if (!real)
		real = (int (*)(SSL *))dlsym(RTLD_NEXT, "SSL_connect");
	if (SSL_in_before(s)) { /* the first call of a handshake, not a retry after WANT_READ */
		SSL_set_session(s, NULL);
		SSL_set_min_proto_version(s, TLS1_3_VERSION);
		SSL_set_ciphersuites(s, "TLS_AES_128_GCM_SHA256");
		SSL_set1_groups_list(s, "X25519");
	}
	return real(s);
}
