/*
 * tls.c: the TLS transport of one connection, over OpenSSL. conn.c reads, writes and
 * sends files through it exactly as through a socket: bytes, the end of the stream, or
 * -EAGAIN when OpenSSL wants the socket (either way: the connection waits for both
 * directions, edge-triggered, and simply runs its state again). The handshake is a state
 * of its own, before the first request, under the head's deadline. Files go out by
 * SSL_sendfile where the kernel encrypts (kTLS: the "tls" module, and a cipher it takes),
 * chosen per connection after its handshake; elsewhere as full-size records read into a
 * buffer of the connection. Nothing here blocks, and the
 * thread's OpenSSL error queue is left empty after every call, so one connection's error
 * never shows up as another's.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "internal.h"

/* A TLS record holds 16 KiB of data at most: a chunk fills one. */
#define FILE_CHUNK 16384
/* The first byte of a TLS record carrying a handshake message (a ClientHello). */
#define TLS_HANDSHAKE_RECORD 0x16

struct hs__tls_conn {
	SSL *ssl;
	bool handshaken;
	bool ktls_send; /* the kernel encrypts what this connection sends: files by sendfile */
	/* a file's bytes read for SSL_write: file_buf[file_sent..file_len) is not yet
	 * accepted, and is offered again as it is when OpenSSL asked for a retry */
	char *file_buf;
	size_t file_len, file_sent;
	off_t file_off; /* the file offset of file_buf[0] */
};

int hs__tls_sniff(int fd)
{
	unsigned char first;
	ssize_t n;
	do
		n = recv(fd, &first, 1, MSG_PEEK | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n == 1)
		return first == TLS_HANDSHAKE_RECORD;
	if (n == 0)
		return -ECONNRESET;
	return errno == EWOULDBLOCK ? -EAGAIN : -errno;
}

int hs__tls_open(struct hs_conn *c, struct hs__tls_context *t)
{
	struct hs__tls_conn *tc = hs__calloc(1, sizeof *tc);
	if (!tc)
		return -ENOMEM;
	void *ctx = hs__tls_context_get(t);
	tc->ssl = ctx && !hs__alloc_fails() ? SSL_new(ctx) : NULL;
	hs__tls_context_put(ctx); /* the SSL holds a reference of its own */
	if (!tc->ssl || SSL_set_fd(tc->ssl, c->io.fd) != 1) {
		if (tc->ssl)
			SSL_free(tc->ssl);
		free(tc);
		ERR_clear_error();
		return -ENOMEM;
	}
	/* an application's own SSL_CTX may lack them: conn.c's retries rely on both */
	SSL_set_mode(tc->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_set_options(tc->ssl, SSL_OP_ENABLE_KTLS); /* used only where the kernel offers it */
	SSL_set_accept_state(tc->ssl);
	c->tls = tc;
	return 0;
}

/* What an SSL call that returned r <= 0 means, as a negative errno; the error queue
 * is emptied. The end of the stream (close_notify, or a peer that just closed) is 0. */
static long ssl_result(struct hs__tls_conn *tc, int r)
{
	int saved = errno;
	int err = SSL_get_error(tc->ssl, r);
	ERR_clear_error();
	switch (err) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return -EAGAIN;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		return saved && saved != EAGAIN ? -saved : -ECONNRESET;
	default:
		return -EPROTO;
	}
}

int hs__tls_handshake(struct hs_conn *c)
{
	struct hs__tls_conn *tc = c->tls;
	int r = SSL_do_handshake(tc->ssl);
	if (r == 1) {
		tc->handshaken = true;
		tc->ktls_send = BIO_get_ktls_send(SSL_get_wbio(tc->ssl));
		ERR_clear_error(); /* a kernel without kTLS leaves OpenSSL's attempt queued */
		return 1;
	}
	long e = ssl_result(tc, r);
	return e == 0 ? -ECONNRESET : (int)e;
}

long hs__tls_read(struct hs_conn *c, void *buf, size_t len)
{
	struct hs__tls_conn *tc = c->tls;
	int r = SSL_read(tc->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
	return r > 0 ? r : ssl_result(tc, r);
}

long hs__tls_write(struct hs_conn *c, const void *buf, size_t len)
{
	struct hs__tls_conn *tc = c->tls;
	int r = SSL_write(tc->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
	if (r > 0)
		return r;
	long e = ssl_result(tc, r);
	return e == 0 ? -EPIPE : e;
}

/* Reads the next chunk of the file at *off into the connection's buffer: its length,
 * 0 when the file ends there (it shrank), or a negative errno. */
static long read_chunk(struct hs__tls_conn *tc, int fd, off_t off, size_t len)
{
	if (!tc->file_buf && !(tc->file_buf = hs__malloc(FILE_CHUNK)))
		return -ENOMEM;
	ssize_t n;
	do
		n = pread(fd, tc->file_buf, len < FILE_CHUNK ? len : FILE_CHUNK, off);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	tc->file_off = off;
	tc->file_len = (size_t)n;
	tc->file_sent = 0;
	return n;
}

/* kTLS: the kernel reads the file and encrypts it; 0 when the file ends early. */
static long ktls_sendfile(struct hs__tls_conn *tc, int fd, off_t *off, size_t len)
{
	ossl_ssize_t n = SSL_sendfile(tc->ssl, fd, *off, len, 0);
	if (n >= 0) {
		*off += n;
		return (long)n;
	}
	long e = ssl_result(tc, (int)n);
	return e == -EAGAIN ? e : -EIO;
}

long hs__tls_sendfile(struct hs_conn *c, int fd, off_t *off, size_t len)
{
	struct hs__tls_conn *tc = c->tls;
	if (tc->ktls_send)
		return ktls_sendfile(tc, fd, off, len);
	long total = 0;
	/* a chunk of another range (or none): read afresh from *off */
	if (tc->file_sent == tc->file_len || tc->file_off + (off_t)tc->file_sent != *off) {
		long n = read_chunk(tc, fd, *off, len);
		if (n <= 0)
			return n;
	}
	while ((size_t)total < len) {
		size_t want = tc->file_len - tc->file_sent;
		if ((size_t)total + want > len)
			want = len - (size_t)total;
		int r = SSL_write(tc->ssl, tc->file_buf + tc->file_sent, (int)want);
		if (r <= 0) {
			long e = ssl_result(tc, r);
			return total > 0 ? total : (e == 0 ? -EPIPE : e);
		}
		tc->file_sent += (size_t)r;
		*off += r;
		total += r;
		if (tc->file_sent == tc->file_len && (size_t)total < len &&
		    read_chunk(tc, fd, *off, len - (size_t)total) <= 0)
			break; /* the caller asks again and sees the end, or the error */
	}
	return total;
}

void hs__tls_idle(struct hs_conn *c)
{
	struct hs__tls_conn *tc = c->tls;
	if (!tc)
		return;
	free(tc->file_buf);
	tc->file_buf = NULL;
	tc->file_len = tc->file_sent = 0;
	SSL_free_buffers(tc->ssl); /* refused, harmlessly, while a record is in flight */
}

void hs__tls_close(struct hs_conn *c)
{
	struct hs__tls_conn *tc = c->tls;
	if (!tc)
		return;
	if (tc->handshaken)
		(void)SSL_shutdown(tc->ssl); /* close_notify if the socket takes it now */
	ERR_clear_error();
	SSL_free(tc->ssl);
	free(tc->file_buf);
	free(tc);
	c->tls = NULL;
}
