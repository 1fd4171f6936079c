/*
 * test_tls_context.c: the server's TLS context. Certificates and keys are made with the
 * openssl command in a fresh temporary directory (RSA and ECDSA, a combined file, a
 * chain, keys encrypted as PKCS#8 and in the traditional format, mismatched keys, files
 * that are not PEM, missing files, a directory) and every outcome of
 * hs__tls_context_new is checked with its one-line reason, with nothing printed on
 * standard error. The self-signed certificate's names, usage, validity and fingerprint
 * format; the application's SSL_CTX taken as it is; a reload that changes the
 * fingerprint and reloads that fail and keep the old one. Handshakes in memory (a BIO
 * pair) show the protocol settings: TLS 1.2 and 1.3 yes, 1.1 and non-ECDHE or non-AEAD
 * ciphers no, ALPN http/1.1 (h2 alone refused, none accepted), tickets resume a session.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "check.h"
#include "internal.h"

static char dir[64];

static const char *path(const char *name)
{
	static char buf[8][256];
	static int next;
	char *p = buf[next++ % 8];
	snprintf(p, 256, "%s/%s", dir, name);
	return p;
}

static void sh(const char *cmd)
{
	char full[2048];
	snprintf(full, sizeof full, "cd %s && (%s) >/dev/null 2>&1", dir, cmd);
	if (system(full) != 0) {
		fprintf(stderr, "setup failed: %s\n", cmd);
		exit(1);
	}
}

static void make_files(void)
{
	static const char *const cmds[] = {
		"openssl req -x509 -newkey rsa:2048 -nodes -keyout rsa.key -out rsa.crt -days 2 "
		"-subj /CN=localhost",
		"openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ec.key "
		"-out ec.crt -days 2 -subj /CN=localhost",
		"openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout ec2.key "
		"-out ec2.crt -days 2 -subj /CN=other",
		"cat ec.crt ec.key > combined.pem",
		"cat ec.key ec.crt > keyfirst.pem",
		"cat ec.crt rsa.crt ec2.crt > chain.crt",
		"openssl pkey -in rsa.key -aes256 -passout pass:s3cret -out enc8.key",
		"openssl rsa -in rsa.key -aes256 -passout pass:s3cret -traditional -out enctrad.key",
		"openssl x509 -in ec.crt -outform DER -out ec.der",
		"head -c 300 ec.crt > truncated.crt",
		"printf 'hello, world\\n' > text.txt",
		": > empty.pem",
		"mkdir adir",
		"head -c 200 ec.key > truncated.key",
		"cat ec.crt truncated.crt > badchain.crt",
	};
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		sh(cmds[i]);
}

/* openssl's own SHA-256 fingerprint of a certificate file, "AB:CD:..." */
static void openssl_fingerprint(const char *crt, char out[96])
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "openssl x509 -noout -fingerprint -sha256 -in %s", path(crt));
	FILE *p = popen(cmd, "r");
	char line[256] = "";
	if (!p || !fgets(line, sizeof line, p))
		line[0] = 0;
	if (p)
		pclose(p);
	char *eq = strchr(line, '=');
	snprintf(out, 96, "%.95s", eq ? eq + 1 : "");
}

/* hs__tls_context_new from files, with stderr captured: rc, and why in why. */
static int new_from(struct hs__tls_context **t, const char *crt, const char *key,
                    const char *password, char *why, size_t why_size)
{
	struct hs_tls_options o = {.cert_file = crt ? path(crt) : NULL,
	                           .key_file = key ? path(key) : NULL, .password = password};
	fflush(stderr);
	int saved = dup(2), fd = open(path("stderr.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fd, 2);
	close(fd);
	why[0] = 0;
	int rc = hs__tls_context_new(t, &o, NULL, why, why_size);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	struct stat st;
	CHECK(stat(path("stderr.txt"), &st) == 0 && st.st_size == 0);
	CHECK(strchr(why, '\n') == NULL);
	CHECK(ERR_peek_error() == 0);
	return rc;
}

struct load_case {
	const char *crt, *key, *password;
	int rc;
	const char *why; /* with %s for the directory */
};

static void test_loading(void)
{
	static const struct load_case cases[] = {
		{"rsa.crt", "rsa.key", NULL, 0, ""},
		{"ec.crt", "ec.key", NULL, 0, ""},
		{"ec.crt", "ec.key", "unused", 0, ""},
		{"combined.pem", NULL, NULL, 0, ""},
		{"keyfirst.pem", NULL, NULL, 0, ""},
		{"chain.crt", "ec.key", NULL, 0, ""},
		{"rsa.crt", "enc8.key", "s3cret", 0, ""},
		{"rsa.crt", "enctrad.key", "s3cret", 0, ""},
		{"rsa.crt", "enc8.key", NULL, -EACCES,
		 "TLS key '%s/enc8.key' is encrypted and needs a password"},
		{"rsa.crt", "enctrad.key", NULL, -EACCES,
		 "TLS key '%s/enctrad.key' is encrypted and needs a password"},
		{"rsa.crt", "enc8.key", "wrong", -EACCES, "TLS key '%s/enc8.key': wrong password"},
		{"rsa.crt", "enctrad.key", "", -EACCES, "TLS key '%s/enctrad.key': wrong password"},
		{"ec.crt", "rsa.key", NULL, -EINVAL,
		 "TLS key '%s/rsa.key' does not match the certificate"},
		{"ec.crt", "ec2.key", NULL, -EINVAL,
		 "TLS key '%s/ec2.key' does not match the certificate"},
		{"ec.crt", NULL, NULL, -EINVAL, "TLS key '%s/ec.crt' holds no PEM private key"},
		{"ec.crt", "text.txt", NULL, -EINVAL, "TLS key '%s/text.txt' holds no PEM private key"},
		{"ec.crt", "truncated.key", NULL, -EINVAL,
		 "TLS key '%s/truncated.key' holds no PEM private key"},
		{"ec.crt", "empty.pem", NULL, -EINVAL, "TLS key '%s/empty.pem' holds no PEM private key"},
		{"ec.der", "ec.key", NULL, -EINVAL,
		 "TLS certificate '%s/ec.der' is not a PEM certificate chain"},
		{"text.txt", "ec.key", NULL, -EINVAL,
		 "TLS certificate '%s/text.txt' is not a PEM certificate chain"},
		{"truncated.crt", "ec.key", NULL, -EINVAL,
		 "TLS certificate '%s/truncated.crt' is not a PEM certificate chain"},
		{"badchain.crt", "ec.key", NULL, -EINVAL,
		 "TLS certificate '%s/badchain.crt' is not a PEM certificate chain"},
		{"empty.pem", "ec.key", NULL, -EINVAL,
		 "TLS certificate '%s/empty.pem' is not a PEM certificate chain"},
		{"ec.key", NULL, NULL, -EINVAL,
		 "TLS certificate '%s/ec.key' is not a PEM certificate chain"},
		{"missing.crt", "ec.key", NULL, -ENOENT,
		 "cannot read TLS certificate '%s/missing.crt': No such file or directory"},
		{"ec.crt", "missing.key", NULL, -ENOENT,
		 "cannot read TLS key '%s/missing.key': No such file or directory"},
		{"adir", "ec.key", NULL, -EISDIR,
		 "cannot read TLS certificate '%s/adir': Is a directory"},
		{"ec.crt", "adir", NULL, -EISDIR, "cannot read TLS key '%s/adir': Is a directory"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct load_case *c = &cases[i];
		struct hs__tls_context *t = (void *)1;
		char why[512], want[512];
		int rc = new_from(&t, c->crt, c->key, c->password, why, sizeof why);
		snprintf(want, sizeof want, c->why, dir);
		CHECK_INT(rc, c->rc);
		CHECK_STR(why, want);
		CHECK(rc == 0 ? t != NULL : t == NULL);
		if (rc == 0) {
			char fp[96], want_fp[96];
			CHECK_INT(hs__tls_context_fingerprint(t, fp), 0);
			openssl_fingerprint(strcmp(c->crt, "chain.crt") == 0 ? "ec.crt" : c->crt,
			                    want_fp);
			CHECK_STR(fp, want_fp);
		}
		hs__tls_context_free(t);
	}

	/* an unreadable file (unless the tests run as root, who reads anything) */
	if (geteuid() != 0) {
		sh("cp ec.key noread.key && chmod 000 noread.key");
		struct hs__tls_context *t;
		char why[512], want[512];
		CHECK_INT(new_from(&t, "ec.crt", "noread.key", NULL, why, sizeof why), -EACCES);
		snprintf(want, sizeof want, "cannot read TLS key '%s/noread.key': Permission denied",
		         dir);
		CHECK_STR(why, want);
	}

	/* a why too small is cut, not overrun; no why at all is fine */
	struct hs__tls_context *t;
	char small[8];
	CHECK_INT(new_from(&t, "missing.crt", NULL, NULL, small, sizeof small), -ENOENT);
	CHECK_STR(small, "cannot ");
	struct hs_tls_options o = {.cert_file = path("missing.crt")};
	CHECK_INT(hs__tls_context_new(&t, &o, NULL, NULL, 0), -ENOENT);
}

static bool is_fingerprint(const char *fp)
{
	if (strlen(fp) != 95)
		return false;
	for (int i = 0; i < 95; i++)
		if (i % 3 == 2 ? fp[i] != ':' : !strchr("0123456789ABCDEF", fp[i]))
			return false;
	return true;
}

/* The self-signed certificate's contents. */
static void check_self_signed_cert(X509 *x, const char *bound, bool names_bound)
{
	CHECK(x != NULL);
	if (!x)
		return;
	CHECK_INT(X509_get_version(x), X509_VERSION_3);
	CHECK(X509_check_host(x, "localhost", 0, 0, NULL) == 1);
	CHECK(X509_check_ip_asc(x, "127.0.0.1", 0) == 1);
	CHECK(X509_check_ip_asc(x, "::1", 0) == 1);
	CHECK(X509_check_ip_asc(x, bound, 0) == (names_bound ? 1 : 0));
	char host[256];
	if (gethostname(host, sizeof host) == 0 && strcmp(host, "localhost") != 0)
		CHECK(X509_check_host(x, host, 0, 0, NULL) == 1);
	CHECK(X509_check_host(x, "example.com", 0, 0, NULL) == 0);
	CHECK(X509_check_ca(x) == 0);
	CHECK(X509_get_key_usage(x) == KU_DIGITAL_SIGNATURE);
	CHECK(X509_get_extended_key_usage(x) == XKU_SSL_SERVER);
	EVP_PKEY *key = X509_get0_pubkey(x);
	CHECK(key && EVP_PKEY_is_a(key, "EC") && EVP_PKEY_get_bits(key) == 256);
	CHECK_INT(X509_get_signature_nid(x), NID_ecdsa_with_SHA256);
	/* valid now, from an hour ago, for 30 days */
	int days, secs;
	CHECK(X509_cmp_current_time(X509_get0_notBefore(x)) < 0);
	CHECK(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x), X509_get0_notAfter(x)) &&
	      days == 30 && secs == 0);
	time_t later = time(NULL) - 3500;
	CHECK(X509_cmp_time(X509_get0_notBefore(x), &later) < 0);
	later = time(NULL) - 3700;
	CHECK(X509_cmp_time(X509_get0_notBefore(x), &later) > 0);
	X509_NAME *subject = X509_get_subject_name(x);
	char cn[64] = "";
	X509_NAME_get_text_by_NID(subject, NID_commonName, cn, sizeof cn);
	CHECK_STR(cn, "localhost");
	CHECK(X509_NAME_cmp(subject, X509_get_issuer_name(x)) == 0);
	CHECK(X509_verify(x, key) == 1);
}

static void test_self_signed(void)
{
	static const struct {
		const char *bound;
		bool named;
	} cases[] = {
		{"192.0.2.7", true}, {"2001:db8::5", true}, {"0.0.0.0", false}, {"::", false},
		{NULL, false}, {"not-an-address", false},
	};
	char prev[96] = "";
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct hs_tls_options o = {.self_signed = true};
		struct hs__tls_context *t;
		char why[256] = "", fp[96];
		CHECK_INT(hs__tls_context_new(&t, &o, cases[i].bound, why, sizeof why), 0);
		CHECK_STR(why, "");
		CHECK_INT(hs__tls_context_fingerprint(t, fp), 0);
		CHECK(is_fingerprint(fp));
		CHECK(strcmp(fp, prev) != 0); /* a new key every time */
		snprintf(prev, sizeof prev, "%s", fp);
		SSL_CTX *ctx = hs__tls_context_get(t);
		check_self_signed_cert(SSL_CTX_get0_certificate(ctx),
		                       cases[i].bound && cases[i].named ? cases[i].bound : "192.0.2.7",
		                       cases[i].named);
		hs__tls_context_put(ctx);
		CHECK_INT(hs__tls_context_reload(t, why, sizeof why), -ENOTSUP);
		CHECK_STR(why, "the TLS certificate was not read from a file: nothing to reload");
		CHECK_INT(hs__tls_context_fingerprint(t, fp), 0);
		CHECK_STR(fp, prev);
		hs__tls_context_free(t);
	}

	/* a certificate file and self_signed: one or the other */
	struct hs_tls_options both = {.self_signed = true, .cert_file = path("ec.crt")};
	struct hs__tls_context *t;
	char why[256];
	CHECK_INT(hs__tls_context_new(&t, &both, NULL, why, sizeof why), -EINVAL);
	CHECK_STR(why, "a TLS certificate file and a self-signed certificate were both asked for");
	struct hs_tls_options none = {0};
	CHECK_INT(hs__tls_context_new(&t, &none, NULL, why, sizeof why), -EINVAL);
	CHECK_STR(why, "no TLS certificate given");
}

static void test_application_ctx(void)
{
	SSL_CTX *mine = SSL_CTX_new(TLS_server_method());
	struct hs_tls_options o = {.ssl_ctx = mine, .cert_file = "/nonexistent"};
	struct hs__tls_context *t;
	char why[256] = "", fp[96];
	CHECK_INT(hs__tls_context_new(&t, &o, NULL, why, sizeof why), 0);
	SSL_CTX *got = hs__tls_context_get(t);
	CHECK(got == mine);
	hs__tls_context_put(got);
	CHECK_INT(hs__tls_context_fingerprint(t, fp), -ENOENT); /* it holds no certificate */
	CHECK_INT(hs__tls_context_reload(t, why, sizeof why), -ENOTSUP);
	hs__tls_context_free(t);
	SSL_CTX_free(mine);
}

static void test_reload(void)
{
	char why[512], want[512], fp0[96], fp[96], ec_fp[96], rsa_fp[96];
	openssl_fingerprint("ec.crt", ec_fp);
	openssl_fingerprint("rsa.crt", rsa_fp);
	sh("cp ec.crt live.crt && cp ec.key live.key");
	struct hs__tls_context *t;
	CHECK_INT(new_from(&t, "live.crt", "live.key", NULL, why, sizeof why), 0);
	CHECK_INT(hs__tls_context_fingerprint(t, fp0), 0);
	CHECK_STR(fp0, ec_fp);
	SSL_CTX *held = hs__tls_context_get(t); /* a connection's reference, across the reload */

	sh("cp rsa.crt live.crt && cp rsa.key live.key");
	CHECK_INT(hs__tls_context_reload(t, why, sizeof why), 0);
	CHECK_INT(hs__tls_context_fingerprint(t, fp), 0);
	CHECK_STR(fp, rsa_fp);
	SSL_CTX *now = hs__tls_context_get(t);
	CHECK(now != held);
	hs__tls_context_put(now);
	X509 *old_cert = SSL_CTX_get0_certificate(held); /* the old one still usable */
	CHECK(old_cert && X509_check_host(old_cert, "localhost", 0, 0, NULL) == 1);
	hs__tls_context_put(held);

	/* broken renewals: each fails with its line and leaves the RSA certificate in use */
	static const struct {
		const char *setup, *why;
		int rc;
	} broken[] = {
		{"cp ec.crt live.crt", "TLS key '%s/live.key' does not match the certificate", -EINVAL},
		{"cp text.txt live.crt", "TLS certificate '%s/live.crt' is not a PEM certificate chain",
		 -EINVAL},
		{"rm live.crt", "cannot read TLS certificate '%s/live.crt': No such file or directory",
		 -ENOENT},
		{"cp rsa.crt live.crt && cp enc8.key live.key",
		 "TLS key '%s/live.key' is encrypted and needs a password", -EACCES},
		{"cp truncated.key live.key", "TLS key '%s/live.key' holds no PEM private key", -EINVAL},
	};
	for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
		sh(broken[i].setup);
		CHECK_INT(hs__tls_context_reload(t, why, sizeof why), broken[i].rc);
		snprintf(want, sizeof want, broken[i].why, dir);
		CHECK_STR(why, want);
		CHECK_INT(hs__tls_context_fingerprint(t, fp), 0);
		CHECK_STR(fp, rsa_fp);
		CHECK(ERR_peek_error() == 0);
	}
	/* and mended, the reload works again */
	sh("cp ec.crt live.crt && cp ec.key live.key");
	CHECK_INT(hs__tls_context_reload(t, why, sizeof why), 0);
	CHECK_INT(hs__tls_context_fingerprint(t, fp), 0);
	CHECK_STR(fp, ec_fp);
	hs__tls_context_free(t);
}

/* ------------------------------------------------------------ handshakes in memory */

struct client {
	int min, max;
	const char *ciphers;       /* TLS 1.2 list, or NULL */
	const unsigned char *alpn; /* wire format, or NULL */
	unsigned alpn_len;
};

/* A handshake between a client set up as c says and a server SSL from sctx; returns
 * whether it succeeded, with the protocol, the ALPN choice and the client's session. */
static bool handshake(SSL_CTX *sctx, const struct client *c, SSL_SESSION *resume,
                      int *version, char alpn[16], SSL_SESSION **session, bool *reused)
{
	SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_security_level(cctx, 0);
	SSL_CTX_set_min_proto_version(cctx, c->min);
	SSL_CTX_set_max_proto_version(cctx, c->max);
	SSL_CTX_set_cipher_list(cctx, c->ciphers ? c->ciphers : "DEFAULT:@SECLEVEL=0");
	if (c->alpn)
		SSL_CTX_set_alpn_protos(cctx, c->alpn, c->alpn_len);
	SSL *cl = SSL_new(cctx), *sv = SSL_new(sctx);
	BIO *cb, *sb;
	BIO_new_bio_pair(&cb, 0, &sb, 0);
	SSL_set_bio(cl, cb, cb);
	SSL_set_bio(sv, sb, sb);
	SSL_set_connect_state(cl);
	SSL_set_accept_state(sv);
	if (resume)
		SSL_set_session(cl, resume);
	bool done = false, failed = false;
	for (int i = 0; i < 50 && !done && !failed; i++) {
		int a = SSL_do_handshake(cl), b = SSL_do_handshake(sv);
		done = a == 1 && b == 1;
		int ea = a == 1 ? 0 : SSL_get_error(cl, a), eb = b == 1 ? 0 : SSL_get_error(sv, b);
		failed = (ea && ea != SSL_ERROR_WANT_READ && ea != SSL_ERROR_WANT_WRITE) ||
		         (eb && eb != SSL_ERROR_WANT_READ && eb != SSL_ERROR_WANT_WRITE);
	}
	if (done) {
		char byte;
		SSL_read(cl, &byte, 1); /* takes in TLS 1.3's tickets */
		*version = SSL_version(sv);
		const unsigned char *p;
		unsigned n;
		SSL_get0_alpn_selected(sv, &p, &n);
		snprintf(alpn, 16, "%.*s", (int)n, p ? (const char *)p : "");
		if (session)
			*session = SSL_get1_session(cl);
		if (reused)
			*reused = SSL_session_reused(sv);
		SSL_shutdown(cl); /* else the client's session is marked not resumable */
	}
	SSL_free(cl);
	SSL_free(sv);
	SSL_CTX_free(cctx);
	ERR_clear_error();
	return done;
}

static void test_protocol(void)
{
	static const unsigned char both[] = "\x02h2\x08http/1.1", h2[] = "\x02h2",
	                           h10[] = "\x08http/1.0", other[] = "\x06spdy/1";
	static const struct {
		struct client c;
		bool ok;
		int version;
		const char *alpn;
	} cases[] = {
		{{TLS1_3_VERSION, TLS1_3_VERSION, NULL, NULL, 0}, true, TLS1_3_VERSION, ""},
		{{TLS1_2_VERSION, TLS1_2_VERSION, NULL, NULL, 0}, true, TLS1_2_VERSION, ""},
		{{TLS1_VERSION, TLS1_3_VERSION, NULL, both, 12}, true, TLS1_3_VERSION, "http/1.1"},
		{{TLS1_2_VERSION, TLS1_2_VERSION, NULL, both, 12}, true, TLS1_2_VERSION, "http/1.1"},
		{{TLS1_2_VERSION, TLS1_3_VERSION, NULL, h10, 9}, true, TLS1_3_VERSION, "http/1.0"},
		{{TLS1_2_VERSION, TLS1_3_VERSION, NULL, h2, 3}, false, 0, ""},
		{{TLS1_2_VERSION, TLS1_3_VERSION, NULL, other, 7}, false, 0, ""},
		{{TLS1_1_VERSION, TLS1_1_VERSION, NULL, NULL, 0}, false, 0, ""},
		{{TLS1_VERSION, TLS1_VERSION, NULL, NULL, 0}, false, 0, ""},
		{{TLS1_2_VERSION, TLS1_2_VERSION, "ECDHE-RSA-AES128-GCM-SHA256", NULL, 0}, true,
		 TLS1_2_VERSION, ""},
		{{TLS1_2_VERSION, TLS1_2_VERSION, "ECDHE-RSA-CHACHA20-POLY1305", NULL, 0}, true,
		 TLS1_2_VERSION, ""},
		{{TLS1_2_VERSION, TLS1_2_VERSION, "AES128-GCM-SHA256", NULL, 0}, false, 0, ""},
		{{TLS1_2_VERSION, TLS1_2_VERSION, "ECDHE-RSA-AES128-SHA", NULL, 0}, false, 0, ""},
		{{TLS1_2_VERSION, TLS1_2_VERSION, "DHE-RSA-AES128-GCM-SHA256", NULL, 0}, false, 0, ""},
	};
	struct hs__tls_context *t;
	char why[512];
	CHECK_INT(new_from(&t, "rsa.crt", "rsa.key", NULL, why, sizeof why), 0);
	SSL_CTX *sctx = hs__tls_context_get(t);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int version = 0;
		char alpn[16] = "";
		bool ok = handshake(sctx, &cases[i].c, NULL, &version, alpn, NULL, NULL);
		if (ok != cases[i].ok)
			fprintf(stderr, "protocol case %zu\n", i);
		CHECK(ok == cases[i].ok);
		CHECK_INT(version, cases[i].version);
		CHECK_STR(alpn, cases[i].alpn);
	}

	/* session tickets resume, in 1.2 and 1.3, and across a reload of the certificate */
	static const int versions[] = {TLS1_2_VERSION, TLS1_3_VERSION};
	sh("cp rsa.crt live.crt && cp rsa.key live.key");
	struct hs__tls_context *live;
	CHECK_INT(new_from(&live, "live.crt", "live.key", NULL, why, sizeof why), 0);
	for (size_t i = 0; i < 2; i++) {
		struct client c = {versions[i], versions[i], NULL, NULL, 0};
		SSL_SESSION *sess = NULL;
		int version;
		char alpn[16];
		bool reused = true;
		SSL_CTX *before = hs__tls_context_get(live);
		CHECK(handshake(before, &c, NULL, &version, alpn, &sess, &reused) && !reused);
		CHECK(sess != NULL);
		CHECK(handshake(before, &c, sess, &version, alpn, NULL, &reused) && reused);
		hs__tls_context_put(before);
		CHECK_INT(hs__tls_context_reload(live, why, sizeof why), 0);
		SSL_CTX *after = hs__tls_context_get(live);
		CHECK(after != before);
		CHECK(handshake(after, &c, sess, &version, alpn, NULL, &reused) && reused);
		hs__tls_context_put(after);
		/* another server's ticket keys: no resumption, a full handshake */
		CHECK(handshake(sctx, &c, sess, &version, alpn, NULL, &reused) && !reused);
		SSL_SESSION_free(sess);
	}
	hs__tls_context_free(live);
	hs__tls_context_put(sctx);
	hs__tls_context_free(t);
}

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/hs-tls-test-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	make_files();
	test_loading();
	test_self_signed();
	test_application_ctx();
	test_reload();
	test_protocol();
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return check_done("test_tls_context");
}
