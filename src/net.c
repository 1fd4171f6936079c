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

static int gai_to_errno(int rc)
{
	switch (rc) {
	case EAI_MEMORY:
		return -ENOMEM;
	case EAI_SYSTEM:
		return -errno;
	default:
		return -ENOENT;
	}
}

static int listen_on(const struct addrinfo *ai, int backlog, bool dual_stack)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
	                ai->ai_protocol);
	if (fd < 0)
		return -errno;
	int one = 1, zero = 0;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
		goto fail;
	/* accepted sockets inherit it: no setsockopt per connection */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (ai->ai_family == AF_INET6 && dual_stack &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) < 0)
		goto fail;
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, backlog) < 0)
		goto fail;
	return fd;
fail:;
	int err = -errno;
	close(fd);
	return err;
}

int hs__listen(const char *host, const char *port, int backlog)
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
			int fd = listen_on(res, backlog, true);
			freeaddrinfo(res);
			if (fd != -EAFNOSUPPORT && fd != -EADDRNOTAVAIL)
				return fd;
		}
		host = "0.0.0.0";
		hints.ai_family = AF_INET;
	}
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0)
		return gai_to_errno(rc);
	int fd = listen_on(res, backlog, false);
	freeaddrinfo(res);
	return fd;
}

void hs__sockaddr_string(const void *sa, char *host, size_t host_size, int *port)
{
	const struct sockaddr *s = sa;
	host[0] = '\0';
	*port = 0;
	if (s->sa_family == AF_INET) {
		const struct sockaddr_in *in = sa;
		inet_ntop(AF_INET, &in->sin_addr, host, (socklen_t)host_size);
		*port = ntohs(in->sin_port);
	} else if (s->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, (socklen_t)host_size);
		*port = ntohs(in6->sin6_port);
	}
}
