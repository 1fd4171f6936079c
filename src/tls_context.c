/*
 * tls_context.c: the server's TLS context. It turns hs_tls_options into the SSL_CTX that
 * new connections use: a certificate chain and key read from PEM files (the password
 * given, never a prompt), a throwaway self-signed ECDSA certificate made in memory, or
 * the application's own SSL_CTX taken as it is. Ours get the protocol settings
 * httpserve.h promises: TLS 1.2 and 1.3 only, ECDHE with AEAD ciphers for 1.2, ALPN
 * "http/1.1", no renegotiation, compression or 0-RTT, and stateless session tickets
 * whose keys this file makes at start-up and rotates every hour. A reload builds a whole
 * new SSL_CTX from the same files and swaps it in under a lock; connections keep the
 * reference they took, so the old one lives until its last handshake is done. Every
 * failure is one line naming the file and the reason; OpenSSL's error queue is emptied
 * before returning, and nothing is ever printed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "internal.h"

#define TLS12_CIPHERS                                                                \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                     \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                     \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define TLS_GROUPS "X25519:prime256v1:secp384r1"
#define PEM_MAX_BYTES (1 << 20)      /* a certificate chain or key file, at most */
#define TICKET_KEY_SECONDS 3600      /* a ticket key encrypts for an hour, decrypts for two */
#define SELF_SIGNED_DAYS 30

/* A session ticket key: its name (sent in the ticket), cipher key and MAC key. */
struct ticket_key {
	unsigned char name[16];
	unsigned char aes[32];
	unsigned char hmac[32];
};

struct hs__tls_context {
	pthread_mutex_t lock;          /* guards ctx */
	SSL_CTX *ctx;                  /* the one new connections take */
	void *batch_method;            /* the BIO_METHOD of tls.c's record batches */
	char *cert_file, *key_file;    /* file-based contexts: what a reload reads */
	char *password;
	bool reloadable;

	/* Session ticket keys, shared by every SSL_CTX this context made, so that tickets
	 * outlive a reload. OpenSSL's own keys would last as long as the SSL_CTX. */
	pthread_mutex_t ticket_lock;
	struct ticket_key ticket[2];   /* [0] current, [1] previous */
	bool have_previous;
	time_t ticket_made;            /* CLOCK_MONOTONIC seconds when [0] was made */
};

/* ------------------------------------------------------------ small helpers */

static int fail(char *why, size_t why_size, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* One line into why (if any), the OpenSSL error queue emptied; returns rc. */
static int fail(char *why, size_t why_size, int rc, const char *fmt, ...)
{
	if (why && why_size) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(why, why_size, fmt, ap);
		va_end(ap);
	}
	ERR_clear_error();
	return rc;
}

static time_t monotonic_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* The whole of a (small, regular) file into a memory BIO. */
static int read_pem(BIO **out, const char *what, const char *path, char *why, size_t why_size)
{
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return fail(why, why_size, -errno, "cannot read TLS %s '%s': %s", what, path,
		            strerror(errno));
	struct stat st;
	int rc = fstat(fd, &st) < 0 ? -errno : 0;
	if (rc == 0 && S_ISDIR(st.st_mode))
		rc = -EISDIR;
	else if (rc == 0 && !S_ISREG(st.st_mode))
		rc = -EINVAL;
	else if (rc == 0 && st.st_size > PEM_MAX_BYTES)
		rc = -EFBIG;
	char *data = rc == 0 ? hs__malloc((size_t)st.st_size + 1) : NULL;
	if (rc == 0 && !data)
		rc = -ENOMEM;
	size_t got = 0;
	while (rc == 0 && got < (size_t)st.st_size) {
		ssize_t n = read(fd, data + got, (size_t)st.st_size - got);
		if (n < 0 && errno != EINTR)
			rc = -errno;
		else if (n == 0)
			break; /* it shrank: parse what there is */
		else if (n > 0)
			got += (size_t)n;
	}
	close(fd);
	if (rc == 0) {
		BIO *mem = BIO_new(BIO_s_mem());
		if (mem && BIO_write(mem, data, (int)got) == (int)got)
			*out = mem;
		else
			BIO_free(mem);
		rc = *out ? 0 : -ENOMEM;
	}
	if (data)
		OPENSSL_cleanse(data, got);
	free(data);
	if (rc == -EINVAL)
		return fail(why, why_size, rc, "cannot read TLS %s '%s': not a regular file", what,
		            path);
	if (rc < 0)
		return fail(why, why_size, rc, "cannot read TLS %s '%s': %s", what, path,
		            strerror(-rc));
	return 0;
}

/* ------------------------------------------------------------ session tickets */

static bool ticket_key_make(struct ticket_key *k)
{
	return RAND_bytes(k->name, sizeof k->name) == 1 && RAND_bytes(k->aes, sizeof k->aes) == 1 &&
	       RAND_bytes(k->hmac, sizeof k->hmac) == 1;
}

/* Under ticket_lock: a new current key once the period is over (without randomness,
 * the current one goes on a while longer). */
static void ticket_rotate(struct hs__tls_context *t)
{
	time_t now = monotonic_seconds();
	if (now - t->ticket_made < TICKET_KEY_SECONDS)
		return;
	struct ticket_key next;
	if (!ticket_key_make(&next))
		return;
	t->ticket[1] = t->ticket[0];
	t->ticket[0] = next;
	t->have_previous = true;
	t->ticket_made = now;
	OPENSSL_cleanse(&next, sizeof next);
}

static int ticket_init(const struct ticket_key *k, unsigned char *iv, EVP_CIPHER_CTX *cctx,
                       EVP_MAC_CTX *hctx, int enc)
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, (void *)k->hmac,
		                                  sizeof k->hmac),
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	if (!EVP_CipherInit_ex(cctx, EVP_aes_256_cbc(), NULL, k->aes, iv, enc) ||
	    !EVP_MAC_CTX_set_params(hctx, params))
		return -1;
	return 0;
}

/* OpenSSL's ticket key callback: encrypt with the current key; decrypt with the current
 * one (1) or the previous one (2: the client gets a fresh ticket); unknown: 0, a full
 * handshake. */
static int ticket_cb(SSL *ssl, unsigned char name[16], unsigned char *iv, EVP_CIPHER_CTX *cctx,
                     EVP_MAC_CTX *hctx, int enc)
{
	struct hs__tls_context *t = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
	int rc = 0;
	pthread_mutex_lock(&t->ticket_lock);
	ticket_rotate(t);
	if (enc) {
		memcpy(name, t->ticket[0].name, sizeof t->ticket[0].name);
		if (RAND_bytes(iv, EVP_MAX_IV_LENGTH) == 1 &&
		    ticket_init(&t->ticket[0], iv, cctx, hctx, 1) == 0)
			rc = 1;
		else
			rc = -1;
	} else {
		for (int i = 0; i < (t->have_previous ? 2 : 1) && rc == 0; i++)
			if (memcmp(name, t->ticket[i].name, sizeof t->ticket[i].name) == 0)
				rc = ticket_init(&t->ticket[i], iv, cctx, hctx, 0) == 0 ? 1 + i : -1;
	}
	pthread_mutex_unlock(&t->ticket_lock);
	return rc;
}

/* ------------------------------------------------------------ protocol settings */

/* ALPN: HTTP/1.1, or HTTP/1.0 for a client that offers only that. A client that offers
 * neither (only h2, say) gets the no_application_protocol alert, as RFC 7301 section
 * 3.2 asks, rather than a connection speaking a protocol it did not offer; a client
 * sending no ALPN at all never comes here and is served. */
static int alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                   const unsigned char *in, unsigned int inlen, void *arg)
{
	static const unsigned char ours[] = "\x08http/1.1\x08http/1.0";
	unsigned char *sel;
	(void)ssl;
	(void)arg;
	if (SSL_select_next_proto(&sel, outlen, ours, sizeof ours - 1, in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

/* A new SSL_CTX with every setting but the certificate. */
static SSL_CTX *ctx_new(struct hs__tls_context *t)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx)
		return NULL;
	static const unsigned char sid_ctx[] = "httpserve";
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) ||
	    !SSL_CTX_set1_groups_list(ctx, TLS_GROUPS) ||
	    !SSL_CTX_set_max_early_data(ctx, 0) ||
	    !SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof sid_ctx - 1) ||
	    !SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_cb) ||
	    !SSL_CTX_set_app_data(ctx, t)) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
	                          SSL_MODE_RELEASE_BUFFERS);
	/* stateless tickets only: no server-side cache to grow or to share between workers */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	/* one ticket per handshake, not TLS 1.3's usual two: a client resumes one connection
	 * at a time, and each ticket costs an encryption and a MAC (bench/README.md, t2) */
	SSL_CTX_set_num_tickets(ctx, 1);
	/* read as much as the socket holds, not a record header and then its record: half
	 * the reads (bench/README.md, t1); conn.c reads until "want more" anyway */
	SSL_CTX_set_read_ahead(ctx, 1);
	SSL_CTX_set_timeout(ctx, TICKET_KEY_SECONDS);
	SSL_CTX_set_alpn_select_cb(ctx, alpn_cb, NULL);
	return ctx;
}

/* ------------------------------------------------------------ certificate files */

/* The password callback: never a prompt. It notes that a password was asked for, so a
 * failure can say "needs a password" or "wrong password". */
struct password_ask {
	const char *password;
	bool asked;
};

static int password_cb(char *buf, int size, int rwflag, void *u)
{
	struct password_ask *ask = u;
	(void)rwflag;
	ask->asked = true;
	if (!ask->password)
		return -1;
	size_t n = strlen(ask->password);
	if (n > (size_t)size)
		return -1;
	memcpy(buf, ask->password, n);
	return (int)n;
}

/* The certificate chain: the first PEM certificate is the server's, the rest its chain. */
static int load_chain(SSL_CTX *ctx, X509 **leaf, const char *path, char *why, size_t why_size)
{
	BIO *in;
	int rc = read_pem(&in, "certificate", path, why, why_size);
	if (rc < 0)
		return rc;
	*leaf = PEM_read_bio_X509_AUX(in, NULL, NULL, NULL);
	rc = *leaf && SSL_CTX_use_certificate(ctx, *leaf) ? 0 : -EINVAL;
	for (X509 *ca; rc == 0 && (ca = PEM_read_bio_X509(in, NULL, NULL, NULL));)
		if (!SSL_CTX_add0_chain_cert(ctx, ca)) {
			X509_free(ca);
			rc = -ENOMEM;
		}
	unsigned long err = ERR_peek_last_error();
	if (rc == 0 && !(ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE) &&
	    err != 0)
		rc = -EINVAL; /* a damaged certificate after the first */
	BIO_free(in);
	if (rc == -ENOMEM)
		return fail(why, why_size, rc, "TLS certificate '%s': out of memory", path);
	if (rc < 0)
		return fail(why, why_size, rc, "TLS certificate '%s' is not a PEM certificate chain",
		            path);
	ERR_clear_error();
	return 0;
}

static int load_key(SSL_CTX *ctx, X509 *leaf, const char *path, const char *password, char *why,
                    size_t why_size)
{
	BIO *in;
	int rc = read_pem(&in, "key", path, why, why_size);
	if (rc < 0)
		return rc;
	struct password_ask ask = {.password = password};
	EVP_PKEY *key = PEM_read_bio_PrivateKey(in, NULL, password_cb, &ask);
	BIO_free(in);
	if (!key && ask.asked && !password)
		return fail(why, why_size, -EACCES, "TLS key '%s' is encrypted and needs a password",
		            path);
	if (!key && ask.asked)
		return fail(why, why_size, -EACCES, "TLS key '%s': wrong password", path);
	if (!key)
		return fail(why, why_size, -EINVAL, "TLS key '%s' holds no PEM private key", path);
	rc = X509_check_private_key(leaf, key) && SSL_CTX_use_PrivateKey(ctx, key) &&
	     SSL_CTX_check_private_key(ctx) ? 0 : -EINVAL;
	EVP_PKEY_free(key);
	if (rc < 0)
		return fail(why, why_size, rc, "TLS key '%s' does not match the certificate", path);
	ERR_clear_error();
	return 0;
}

/* A complete SSL_CTX from the context's files. */
static int ctx_from_files(SSL_CTX **out, struct hs__tls_context *t, char *why, size_t why_size)
{
	*out = NULL;
	SSL_CTX *ctx = ctx_new(t);
	if (!ctx)
		return fail(why, why_size, -ENOMEM, "cannot make a TLS context: out of memory");
	X509 *leaf = NULL;
	int rc = load_chain(ctx, &leaf, t->cert_file, why, why_size);
	if (rc == 0)
		rc = load_key(ctx, leaf, t->key_file ? t->key_file : t->cert_file, t->password, why,
		              why_size);
	X509_free(leaf);
	if (rc < 0) {
		SSL_CTX_free(ctx);
		return rc;
	}
	*out = ctx;
	return 0;
}

/* ------------------------------------------------------------ self-signed */

/* A numeric address worth naming in the certificate: not a wildcard, not loopback
 * (already there). */
static bool specific_address(const char *host)
{
	unsigned char a[16];
	if (!host)
		return false;
	if (inet_pton(AF_INET, host, a) == 1)
		return strcmp(host, "0.0.0.0") != 0 && strcmp(host, "127.0.0.1") != 0;
	if (inet_pton(AF_INET6, host, a) == 1)
		return !IN6_IS_ADDR_UNSPECIFIED((struct in6_addr *)a) &&
		       !IN6_IS_ADDR_LOOPBACK((struct in6_addr *)a);
	return false;
}

/* gethostname(), when it is a plain DNS name other than localhost. */
static bool dns_hostname(char *name, size_t size)
{
	if (gethostname(name, size) < 0 || !*name || strcmp(name, "localhost") == 0)
		return false;
	name[size - 1] = 0;
	for (const char *p = name; *p; p++)
		if (!(*p == '-' || *p == '.' || (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= 'A' && *p <= 'Z')))
			return false;
	return true;
}

static bool add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX v3;
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	bool ok = ext && X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

static bool random_serial(X509 *x)
{
	unsigned char b[16];
	if (RAND_bytes(b, sizeof b) != 1)
		return false;
	b[0] &= 0x7f; /* positive */
	b[0] |= 0x01; /* and never shorter than it looks */
	BIGNUM *bn = BN_bin2bn(b, sizeof b, NULL);
	bool ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	return ok;
}

/* The certificate for key: CN=localhost, valid from an hour ago for SELF_SIGNED_DAYS. */
static X509 *self_signed_cert(EVP_PKEY *key, const char *bound_host)
{
	char host[256], san[512];
	int n = snprintf(san, sizeof san, "DNS:localhost");
	if (dns_hostname(host, sizeof host))
		n += snprintf(san + n, sizeof san - (size_t)n, ",DNS:%s", host);
	n += snprintf(san + n, sizeof san - (size_t)n, ",IP:127.0.0.1,IP:::1");
	if (specific_address(bound_host))
		snprintf(san + n, sizeof san - (size_t)n, ",IP:%s", bound_host);

	X509 *x = X509_new();
	X509_NAME *name = x ? X509_get_subject_name(x) : NULL;
	time_t now = time(NULL);
	bool ok = name && X509_set_version(x, X509_VERSION_3) && random_serial(x) &&
	          X509_time_adj_ex(X509_getm_notBefore(x), 0, -3600, &now) &&
	          X509_time_adj_ex(X509_getm_notAfter(x), SELF_SIGNED_DAYS, -3600, &now) &&
	          X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	                                     (const unsigned char *)"localhost", -1, -1, 0) &&
	          X509_set_issuer_name(x, name) && X509_set_pubkey(x, key) &&
	          add_ext(x, NID_subject_alt_name, san) &&
	          add_ext(x, NID_basic_constraints, "critical,CA:FALSE") &&
	          add_ext(x, NID_key_usage, "critical,digitalSignature") &&
	          add_ext(x, NID_ext_key_usage, "serverAuth") &&
	          add_ext(x, NID_subject_key_identifier, "hash") &&
	          X509_sign(x, key, EVP_sha256()) > 0;
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static int ctx_self_signed(SSL_CTX **out, struct hs__tls_context *t, const char *bound_host,
                           char *why, size_t why_size)
{
	*out = NULL;
	SSL_CTX *ctx = ctx_new(t);
	EVP_PKEY *key = ctx ? EVP_EC_gen("P-256") : NULL;
	X509 *x = key ? self_signed_cert(key, bound_host) : NULL;
	bool ok = x && SSL_CTX_use_certificate(ctx, x) && SSL_CTX_use_PrivateKey(ctx, key) &&
	          SSL_CTX_check_private_key(ctx);
	X509_free(x);
	EVP_PKEY_free(key);
	if (!ok) {
		SSL_CTX_free(ctx);
		return fail(why, why_size, -ENOMEM, "cannot make a self-signed TLS certificate");
	}
	*out = ctx;
	ERR_clear_error();
	return 0;
}

/* ------------------------------------------------------------ the context */

static char *dup_or_null(const char *s, bool *ok)
{
	char *d = s ? hs__strdup(s) : NULL;
	if (s && !d)
		*ok = false;
	return d;
}

static void free_secret(char *s)
{
	if (s)
		OPENSSL_cleanse(s, strlen(s));
	free(s);
}

/* Which kind of context, and the copies a reload needs. */
static int context_setup(struct hs__tls_context *t, const struct hs_tls_options *o, char *why,
                         size_t why_size)
{
	if (o->ssl_ctx)
		return 0;
	if (o->self_signed && o->cert_file)
		return fail(why, why_size, -EINVAL, "a TLS certificate file and a self-signed "
		            "certificate were both asked for");
	if (!o->self_signed && !o->cert_file)
		return fail(why, why_size, -EINVAL, "no TLS certificate given");
	if (o->self_signed)
		return 0;
	bool ok = true;
	t->cert_file = dup_or_null(o->cert_file, &ok);
	t->key_file = dup_or_null(o->key_file, &ok);
	t->password = dup_or_null(o->password, &ok);
	t->reloadable = true;
	return ok ? 0 : fail(why, why_size, -ENOMEM, "out of memory");
}

int hs__tls_context_new(struct hs__tls_context **out, const struct hs_tls_options *o,
                        const char *bound_host, char *why, size_t why_size)
{
	*out = NULL;
	struct hs__tls_context *t = hs__calloc(1, sizeof *t);
	if (!t)
		return fail(why, why_size, -ENOMEM, "out of memory");
	pthread_mutex_init(&t->lock, NULL);
	pthread_mutex_init(&t->ticket_lock, NULL);
	t->ticket_made = monotonic_seconds();
	int rc = ticket_key_make(&t->ticket[0]) ? context_setup(t, o, why, why_size)
	                                         : fail(why, why_size, -EIO, "no randomness for "
	                                                "TLS session ticket keys");
	if (rc == 0 && !(t->batch_method = hs__alloc_fails() ? NULL : hs__tls_batch_method_new()))
		rc = fail(why, why_size, -ENOMEM, "out of memory");
	if (rc == 0 && o->ssl_ctx) {
		t->ctx = o->ssl_ctx;
		SSL_CTX_up_ref(t->ctx);
	} else if (rc == 0 && o->self_signed) {
		rc = ctx_self_signed(&t->ctx, t, bound_host, why, why_size);
	} else if (rc == 0) {
		rc = ctx_from_files(&t->ctx, t, why, why_size);
	}
	if (rc < 0) {
		hs__tls_context_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

void hs__tls_context_free(struct hs__tls_context *t)
{
	if (!t)
		return;
	SSL_CTX_free(t->ctx);
	hs__tls_batch_method_free(t->batch_method);
	free(t->cert_file);
	free(t->key_file);
	free_secret(t->password);
	OPENSSL_cleanse(t->ticket, sizeof t->ticket);
	pthread_mutex_destroy(&t->lock);
	pthread_mutex_destroy(&t->ticket_lock);
	free(t);
}

int hs__tls_context_reload(struct hs__tls_context *t, char *why, size_t why_size)
{
	if (!t->reloadable)
		return fail(why, why_size, -ENOTSUP, "the TLS certificate was not read from a file: "
		            "nothing to reload");
	SSL_CTX *fresh;
	int rc = ctx_from_files(&fresh, t, why, why_size);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&t->lock);
	SSL_CTX *old = t->ctx;
	t->ctx = fresh;
	pthread_mutex_unlock(&t->lock);
	SSL_CTX_free(old); /* connections that took it keep it until they are done */
	return 0;
}

int hs__tls_context_fingerprint(struct hs__tls_context *t, char out[96])
{
	SSL_CTX *ctx = hs__tls_context_get(t);
	X509 *x = SSL_CTX_get0_certificate(ctx);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	int rc = x && X509_digest(x, EVP_sha256(), md, &n) && n == 32 ? 0 : -ENOENT;
	hs__tls_context_put(ctx);
	out[0] = 0;
	for (unsigned int i = 0; rc == 0 && i < n; i++)
		snprintf(out + 3 * i, 4, "%02X%s", md[i], i + 1 < n ? ":" : "");
	ERR_clear_error();
	return rc;
}

void *hs__tls_context_get(struct hs__tls_context *t)
{
	pthread_mutex_lock(&t->lock);
	SSL_CTX *ctx = t->ctx;
	SSL_CTX_up_ref(ctx);
	pthread_mutex_unlock(&t->lock);
	return ctx;
}

void *hs__tls_context_batch_method(struct hs__tls_context *t)
{
	return t->batch_method;
}

void hs__tls_context_put(void *ssl_ctx)
{
	SSL_CTX_free(ssl_ctx);
}
