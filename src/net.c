/*
 * net.c: sockets. Resolving and binding the listening address the way Python's
 * http.server does (the first getaddrinfo result; with no host, "::" dual stack so that
 * IPv4 clients connect too), and turning peer addresses into the text the log shows.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

/* The kind of failure survives: the name does not exist (-ENOENT), the resolver could not
 * answer now (-EAGAIN, worth a retry), the port is no service (-EINVAL). */
int hs__gai_errno(int rc, int err)
{
	switch (rc) {
	case EAI_NONAME:
	case EAI_NODATA:
	case EAI_ADDRFAMILY:
		return -ENOENT;
	case EAI_AGAIN:
		return -EAGAIN;
	case EAI_MEMORY:
		return -ENOMEM;
	case EAI_SERVICE:
		return -EINVAL;
	case EAI_SYSTEM:
		return err > 0 ? -err : -EIO;
	default:
		return -EIO;
	}
}

/* A TCP socket bound to addr, not yet listening. */
static int bound_socket(int family, const struct sockaddr *addr, socklen_t len, bool dual_stack,
                        bool reuseport)
{
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1, zero = 0;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0))
		goto fail;
	/* accepted sockets inherit it: no setsockopt per connection */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	/* a connection is accepted once its first bytes are there (or, silent, after about
	 * a second): accepting it and reading its request is then one wake-up, not two */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &one, sizeof one);
	if (family == AF_INET6 && dual_stack &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) < 0)
		goto fail;
	if (bind(fd, addr, len) < 0)
		goto fail;
	return fd;
fail:;
	int err = -errno;
	close(fd);
	return err;
}

/* n listening sockets on ai's address. One is a plain socket. More are a SO_REUSEPORT
 * group, over which the kernel spreads new connections by their addresses, one socket
 * per worker; a first bind without SO_REUSEPORT, on the address asked for, checks that
 * the port is free, as Python's one bind does (a group would admit a second server of
 * the same user silently), and fixes the port when 0 was asked for. */
static int listen_on(const struct addrinfo *ai, int backlog, bool dual_stack, int *fds, int n)
{
	int probe = bound_socket(ai->ai_family, ai->ai_addr, ai->ai_addrlen, dual_stack, false);
	if (probe < 0)
		return probe;
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	int rc = 0, made = 0;
	if (n == 1) {
		fds[made++] = probe;
	} else {
		rc = getsockname(probe, (struct sockaddr *)&ss, &len) < 0 ? -errno : 0;
		close(probe);
	}
	for (int i = 0; i < n && rc == 0; i++) {
		if (i >= made) {
			int fd = bound_socket(ai->ai_family, (struct sockaddr *)&ss, len, dual_stack, true);
			if (fd < 0) {
				rc = fd;
				break;
			}
			fds[made++] = fd;
		}
		if (listen(fds[i], backlog) < 0)
			rc = -errno;
	}
	if (rc < 0)
		while (made > 0)
			close(fds[--made]);
	return rc;
}

int hs__listen(const char *host, const char *port, int backlog, int *fds, int n)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
	struct addrinfo *res = NULL;
	bool dual_stack = host == NULL;
	int rc;
	if (dual_stack) {
		/* Python's DualStackServer: "::" with IPV6_V6ONLY off, when IPv6 exists. */
		hints.ai_family = AF_INET6;
		hints.ai_flags |= AI_NUMERICHOST;
		rc = getaddrinfo("::", port, &hints, &res);
		if (rc == 0) {
			rc = listen_on(res, backlog, true, fds, n);
			freeaddrinfo(res);
			if (rc != -EAFNOSUPPORT && rc != -EADDRNOTAVAIL)
				return rc;
		}
		host = "0.0.0.0";
		hints.ai_family = AF_INET;
	}
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0)
		return hs__gai_errno(rc, errno);
	rc = listen_on(res, backlog, false, fds, n);
	freeaddrinfo(res);
	return rc;
}

/* The dotted quad of b, as inet_ntop writes it, into out (16 bytes at least). By hand:
 * glibc's inet_ntop formats with sprintf, which was a sixth of the user-space work of a
 * Connection: close request. */
static void dotted_quad(const unsigned char b[4], char *out)
{
	for (int i = 0; i < 4; i++) {
		unsigned v = b[i];
		if (v >= 100)
			*out++ = (char)('0' + v / 100);
		if (v >= 10)
			*out++ = (char)('0' + v / 10 % 10);
		*out++ = (char)('0' + v % 10);
		*out++ = i < 3 ? '.' : '\0';
	}
}

void hs__sockaddr_string(const void *sa, char *host, size_t host_size, int *port)
{
	static const char mapped_prefix[] = "::ffff:";
	const struct sockaddr *s = sa;
	host[0] = '\0';
	*port = 0;
	if (s->sa_family == AF_INET) {
		const struct sockaddr_in *in = sa;
		if (host_size >= INET_ADDRSTRLEN)
			dotted_quad((const unsigned char *)&in->sin_addr, host);
		*port = ntohs(in->sin_port);
	} else if (s->sa_family == AF_INET6) {
		/* an IPv4 client of a dual-stack listener: "::ffff:" and its quad */
		const struct sockaddr_in6 *in6 = sa;
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) &&
		    host_size >= sizeof mapped_prefix - 1 + INET_ADDRSTRLEN) {
			memcpy(host, mapped_prefix, sizeof mapped_prefix - 1);
			dotted_quad(in6->sin6_addr.s6_addr + 12, host + sizeof mapped_prefix - 1);
		} else {
			inet_ntop(AF_INET6, &in6->sin6_addr, host, (socklen_t)host_size);
		}
		*port = ntohs(in6->sin6_port);
	}
}
