/*
 * echo.c: a JSON echo service, the embedding example the README shows. GET answers
 * {"method": "GET", "path": "..."}; POST sends the request body back as JSON. It runs on
 * 127.0.0.1 (port from argv, default 8000) until SIGINT or SIGTERM. Build:
 *     cc echo.c $(pkg-config --cflags --libs httpserve) -o echo
 */
#include <httpserve.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

static struct hs_server *server;

static void stop(int sig)
{
	(void)sig;
	hs_server_shutdown(server);
}

/* Writes s as a JSON string: quotes, backslashes and control bytes escaped. */
static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static int reply(struct hs_conn *c, const char *body, size_t len)
{
	char length[32];
	snprintf(length, sizeof length, "%zu", len);
	hs_send_response(c, 200, NULL);
	hs_send_header(c, "Content-Type", "application/json");
	hs_send_header(c, "Content-Length", length);
	hs_end_headers(c);
	return hs_write(c, body, len) < 0 ? -1 : 0;
}

static int echo_GET(const struct hs_handler *self, struct hs_conn *c, const struct hs_request *r)
{
	char *json = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&json, &len);
	(void)self;
	if (!f)
		return hs_send_error(c, 500, NULL, NULL);
	fputs("{\"method\": ", f);
	json_string(f, r->command);
	fputs(", \"path\": ", f);
	json_string(f, r->path);
	fputs("}\n", f);
	fclose(f);
	int rc = reply(c, json, len);
	free(json);
	return rc;
}

static int echo_POST(const struct hs_handler *self, struct hs_conn *c, const struct hs_request *r)
{
	char *body = malloc((size_t)r->content_length + 1);
	(void)self;
	if (!body)
		return hs_send_error(c, 500, NULL, NULL);
	long n = hs_read_body(c, body, (size_t)r->content_length);
	int rc = reply(c, body, n > 0 ? (size_t)n : 0);
	free(body);
	return rc;
}

int main(int argc, char **argv)
{
	struct hs_handler echo = {
		.protocol_version = "HTTP/1.1",
		.do_GET = echo_GET,
		.do_POST = echo_POST,
	};
	struct hs_options opt = {.host = "127.0.0.1", .port = argc > 1 ? argv[1] : "8000"};
	int rc = hs_server_new(&server, &opt, &echo);
	if (rc < 0) {
		fprintf(stderr, "echo: cannot listen on port %s\n", opt.port);
		return 1;
	}
	char host[64];
	int port;
	hs_server_address(server, host, sizeof host, &port);
	printf("Serving HTTP on %s port %d (http://%s:%d/) ...\n", host, port, host, port);
	fflush(stdout);
	signal(SIGINT, stop);
	signal(SIGTERM, stop);
	rc = hs_server_serve_forever(server);
	hs_server_close(server);
	return rc < 0 ? 1 : 0;
}
