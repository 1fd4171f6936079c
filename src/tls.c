/*
 * tls.c: the TLS transport of one connection, over OpenSSL. conn.c reads, writes and
 * sends files through it exactly as through a socket: bytes, the end of the stream, or
 * -EAGAIN when OpenSSL wants the socket (either way: the connection waits for both
 * directions, edge-triggered, and simply runs its state again). The handshake is a state
 * of its own, before the first request, under the head's deadline. Files go out by
 * SSL_sendfile where the kernel encrypts (kTLS: the "tls" module, and a cipher it takes),
 * chosen per connection after its handshake. Elsewhere a file is read a record's worth
 * at a time, and the full-size records of a file or of any write longer than one record
 * are gathered and written to the socket together, one system call for four records,
 * through a BIO of this file's own that stands in for the socket's once the handshake is
 * done (docs/design.md, "Large files"). Nothing here blocks, and the thread's OpenSSL
 * error queue is left empty after every call, so one connection's error never shows up
 * as another's.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "internal.h"

/* A TLS record holds 16 KiB of data at most: one SSL_write of a file makes one record. */
#define RECORD_DATA 16384
/* A record's bytes beyond its data: header, content type, tag, explicit nonce (< 64),
 * and room for a key update OpenSSL may put before it. */
#define RECORD_SLACK 512
/* A file is read this much at a time, and sent as this many records per write. */
#define FILE_READ RECORD_DATA
#define BATCH_RECORDS 4
#define BATCH_BYTES (BATCH_RECORDS * (RECORD_DATA + RECORD_SLACK))
/* The first byte of a TLS record carrying a handshake message (a ClientHello). */
#define TLS_HANDSHAKE_RECORD 0x16

/* Records made but not yet written to the socket, with the caller's bytes each SSL_write
 * turned into them: those count as sent once their records are all out. */
struct batch {
	char *data;
	size_t len, written; /* data[written..len) is not yet in the socket */
	size_t nrec, rec_out; /* rec[rec_out..nrec) are not wholly in the socket */
	struct {
		size_t end;      /* where this SSL_write's records end in data */
		size_t plain;    /* the caller's bytes in them */
	} rec[BATCH_RECORDS];
	bool gathering;   /* the BIO appends to data instead of writing to the socket */
	long plain_out;   /* the caller's bytes whose records went out, not yet reported */
};

struct hs__tls_conn {
	SSL *ssl;
	int fd;
	bool handshaken;
	bool ktls_send; /* the kernel encrypts what this connection sends: files by sendfile */
	BIO_METHOD *batch_method; /* the server's, for the BIO that gathers records */
	struct batch batch;
	char *file_buf; /* file bytes [file_off, file_off + file_len) */
	size_t file_len;
	off_t file_off;
	off_t file_next; /* the offset after the last file byte made into a record */
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
	tc->fd = c->io.fd;
	tc->batch_method = hs__tls_context_batch_method(t);
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

/* ------------------------------------------------------------ the batching BIO */

/* Writes the batch's unwritten bytes while the socket takes them, and counts the
 * caller's bytes of the records now wholly out in plain_out: 0 (everything out, or the
 * socket is full and batch.len is still non-zero), or a negative errno. */
static int batch_write_out(struct hs__tls_conn *tc)
{
	struct batch *b = &tc->batch;
	while (b->written < b->len) {
		ssize_t n = send(tc->fd, b->data + b->written, b->len - b->written, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0)
			return -errno;
		b->written += (size_t)n;
	}
	while (b->rec_out < b->nrec && b->rec[b->rec_out].end <= b->written)
		b->plain_out += (long)b->rec[b->rec_out++].plain;
	if (b->written == b->len)
		b->len = b->written = b->nrec = b->rec_out = 0;
	return 0;
}

/* OpenSSL's writes after the handshake: appended to the batch while one is being made,
 * else written to the socket, after whatever the batch still holds. */
static int batch_bio_write(BIO *bio, const char *data, int len)
{
	struct hs__tls_conn *tc = BIO_get_data(bio);
	struct batch *b = &tc->batch;
	BIO_clear_retry_flags(bio);
	if (b->gathering && b->len + (size_t)len <= BATCH_BYTES) {
		memcpy(b->data + b->len, data, (size_t)len);
		b->len += (size_t)len;
		return len;
	}
	int rc = batch_write_out(tc);
	if (rc == 0 && b->len) {
		BIO_set_retry_write(bio);
		rc = -EAGAIN;
	}
	ssize_t n = -1;
	if (rc == 0) {
		do
			n = send(tc->fd, data, (size_t)len, MSG_NOSIGNAL);
		while (n < 0 && errno == EINTR);
		rc = n < 0 ? -errno : 0;
		if (rc == -EAGAIN || rc == -EWOULDBLOCK)
			BIO_set_retry_write(bio);
	}
	if (rc < 0)
		errno = -rc; /* what SSL_ERROR_SYSCALL reports */
	return (int)n;
}

static long batch_bio_ctrl(BIO *bio, int cmd, long num, void *ptr)
{
	(void)bio, (void)num, (void)ptr;
	/* a batch is written out by the write that made it (send_batched), and before any
	 * other write: there is nothing for a flush to do */
	return cmd == BIO_CTRL_FLUSH;
}

void *hs__tls_batch_method_new(void)
{
	/* no BIO_get_new_index(): OpenSSL has 127 of them per process, and a process may
	 * make servers without end; nothing looks this BIO up by its type */
	BIO_METHOD *m = BIO_meth_new(BIO_TYPE_SOURCE_SINK, "httpserve records");
	if (m && (BIO_meth_set_write(m, batch_bio_write) != 1 ||
	          BIO_meth_set_ctrl(m, batch_bio_ctrl) != 1)) {
		BIO_meth_free(m);
		m = NULL;
	}
	ERR_clear_error();
	return m;
}

void hs__tls_batch_method_free(void *method)
{
	BIO_meth_free(method);
}

/* After the handshake, where the kernel does not encrypt: OpenSSL writes through the
 * batching BIO (the socket's stays for reading). */
static int use_batch_bio(struct hs__tls_conn *tc)
{
	BIO *bio = hs__alloc_fails() ? NULL : BIO_new(tc->batch_method);
	if (!bio) {
		ERR_clear_error();
		return -ENOMEM;
	}
	BIO_set_data(bio, tc);
	BIO_set_init(bio, 1);
	SSL_set0_wbio(tc->ssl, bio);
	return 0;
}

/* ------------------------------------------------------------ the connection */

int hs__tls_handshake(struct hs_conn *c)
{
	struct hs__tls_conn *tc = c->tls;
	int r = SSL_do_handshake(tc->ssl);
	if (r == 1) {
		tc->handshaken = true;
		tc->ktls_send = BIO_get_ktls_send(SSL_get_wbio(tc->ssl));
		ERR_clear_error(); /* a kernel without kTLS leaves OpenSSL's attempt queued */
		return tc->ktls_send ? 1 : use_batch_bio(tc) == 0 ? 1 : -ENOMEM;
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

/* Reads the file from off (at most len bytes, FILE_READ) into the connection's buffer:
 * the bytes read, 0 when the file ends there (it shrank), or a negative errno. */
static long read_chunk(struct hs__tls_conn *tc, int fd, off_t off, size_t len)
{
	if (!tc->file_buf && !(tc->file_buf = hs__malloc(FILE_READ)))
		return -ENOMEM;
	ssize_t n;
	do
		n = pread(fd, tc->file_buf, len < FILE_READ ? len : FILE_READ, off);
	while (n < 0 && errno == EINTR);
	tc->file_off = off;
	tc->file_len = n > 0 ? (size_t)n : 0;
	return n < 0 ? -errno : n;
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

/* One SSL_write of at most a record's data, gathered into the batch: the bytes taken,
 * or a negative errno. */
static long batch_record(struct hs__tls_conn *tc, const char *p, size_t n)
{
	struct batch *b = &tc->batch;
	b->gathering = true;
	int r = SSL_write(tc->ssl, p, (int)(n < RECORD_DATA ? n : RECORD_DATA));
	b->gathering = false;
	if (r <= 0) {
		long e = ssl_result(tc, r);
		return e == 0 ? -EPIPE : e;
	}
	b->rec[b->nrec].end = b->len;
	b->rec[b->nrec].plain = (size_t)r;
	b->nrec++;
	return r;
}

/* Makes records of buf[0..len) into the (empty) batch, BATCH_RECORDS at most: the bytes
 * made into records, or a negative errno. */
static long batch_from_memory(struct hs__tls_conn *tc, const char *buf, size_t len)
{
	size_t made = 0;
	long r = 0;
	while (tc->batch.nrec < BATCH_RECORDS && made < len &&
	       (r = batch_record(tc, buf + made, len - made)) > 0)
		made += (size_t)r;
	return made ? (long)made : r;
}

/* Makes records of the file from off on (len bytes at most) into the (empty) batch,
 * BATCH_RECORDS at most: the bytes made into records, 0 when the file ends at off (it
 * shrank), or a negative errno. The buffer's bytes are reused only for the offsets that
 * follow the last ones used, so that another range, or another file, is read afresh. */
static long batch_from_file(struct hs__tls_conn *tc, int fd, off_t off, size_t len)
{
	size_t made = 0;
	long r = 0;
	while (tc->batch.nrec < BATCH_RECORDS && made < len) {
		off_t at = off + (off_t)made;
		bool cached = at == tc->file_next && at >= tc->file_off &&
		              at < tc->file_off + (off_t)tc->file_len;
		if (!cached && (r = read_chunk(tc, fd, at, len - made)) <= 0)
			break;
		size_t have = (size_t)(tc->file_off + (off_t)tc->file_len - at);
		r = batch_record(tc, tc->file_buf + (at - tc->file_off),
		                 have < len - made ? have : len - made);
		if (r <= 0)
			break;
		made += (size_t)r;
		tc->file_next = at + r;
	}
	return made ? (long)made : r;
}

/* What both writes share: the records go out a batch at a time, and a byte counts as
 * sent once its record is wholly in the socket. From buf when it is given, else from the
 * file at off. The bytes sent, 0 when the file ends early, or a negative errno (-EAGAIN:
 * the socket is full). */
static long send_batched(struct hs__tls_conn *tc, const char *buf, int fd, off_t off,
                         size_t len)
{
	struct batch *b = &tc->batch;
	if (!b->data && !(b->data = hs__malloc(BATCH_BYTES)))
		return -ENOMEM;
	long total = 0;
	for (;;) {
		int rc = batch_write_out(tc);
		total += b->plain_out;
		b->plain_out = 0;
		if (rc < 0 || b->len)
			return total > 0 ? total : rc < 0 ? rc : -EAGAIN;
		if ((size_t)total >= len)
			return total;
		long n = buf ? batch_from_memory(tc, buf + total, len - (size_t)total)
		             : batch_from_file(tc, fd, off + total, len - (size_t)total);
		if (n <= 0)
			return total > 0 ? total : n;
	}
}

/* A write of one record or less goes straight through OpenSSL to the socket, uncopied;
 * a longer one is batched. A retry after -EAGAIN comes with the same bytes, so a batch
 * left unsent is the beginning of what is asked again. */
long hs__tls_write(struct hs_conn *c, const void *buf, size_t len)
{
	struct hs__tls_conn *tc = c->tls;
	if (!tc->ktls_send && (len > RECORD_DATA || tc->batch.len))
		return send_batched(tc, buf, -1, 0, len);
	int r = SSL_write(tc->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
	if (r > 0)
		return r;
	long e = ssl_result(tc, r);
	return e == 0 ? -EPIPE : e;
}

long hs__tls_sendfile(struct hs_conn *c, int fd, off_t *off, size_t len)
{
	struct hs__tls_conn *tc = c->tls;
	if (tc->ktls_send)
		return ktls_sendfile(tc, fd, off, len);
	long n = send_batched(tc, NULL, fd, *off, len);
	if (n > 0)
		*off += n;
	return n;
}

void hs__tls_idle(struct hs_conn *c)
{
	struct hs__tls_conn *tc = c->tls;
	if (!tc)
		return;
	free(tc->file_buf);
	tc->file_buf = NULL;
	tc->file_len = 0;
	if (!tc->batch.len) { /* always empty between responses */
		free(tc->batch.data);
		tc->batch.data = NULL;
	}
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
	free(tc->batch.data);
	free(tc);
	c->tls = NULL;
}
