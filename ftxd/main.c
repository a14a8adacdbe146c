/*
 * main.c - ftxd command line.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "limits.h"
#include "log.h"
#include "server.h"
#include "str.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: ftxd [options]\n"
	    "\n"
	    "Serve files over the FTX/1 protocol: commands on the control "
	    "port,\n"
	    "file bytes on one-time data connections, SHA-256 verified.\n"
	    "\n"
	    "  --root DIR          storage root (default %s, created if "
	    "missing)\n"
	    "  --bind ADDR         address to listen on, IPv4 or IPv6 (default "
	    "%s)\n"
	    "  --port N            control port (default %d; 0 picks a free "
	    "one)\n"
	    "  --data-port N       data port (default %d; 0 picks a free one)\n"
	    "  --workers N         most worker threads (default %d)\n"
	    "  --max-clients N     most control connections (default %d)\n"
	    "  --max-per-ip N      most control connections per IP (default "
	    "%d)\n"
	    "  --chunk-size N      I/O chunk in bytes, %d..%d (default %d)\n"
	    "  --idle-timeout S    close idle sessions after S s (default %d)\n"
	    "  --data-timeout S    fail stalled transfers after S s (default "
	    "%d)\n"
	    "  --token-ttl S       data token lifetime in s (default %d)\n"
	    "  --log FILE          append the log to FILE (default stderr)\n"
	    "  --chat-rate N       chat messages per session per %d s, 0 = "
	    "no limit\n"
	    "                      (default %d)\n"
	    "  --log-chat          log chat message bodies (default: sizes "
	    "only)\n"
	    "  --udp-echo          answer UDP echo on the control port "
	    "(default)\n"
	    "  --no-udp-echo       do not answer UDP echo\n"
	    "  --udp-rate N        UDP echo replies per second per source "
	    "(default %d)\n"
	    "  --help              show this help\n"
	    "  --version           show the version\n"
	    "\n"
	    "SIGINT/SIGTERM stop accepting, let running transfers finish for "
	    "up\n"
	    "to %d s, and exit 0.  See docs/PROTOCOL.md.\n",
	    FTX_DEFAULT_ROOT, FTX_DEFAULT_BIND, FTX_DEFAULT_PORT,
	    FTX_DEFAULT_DATA_PORT, FTX_DEFAULT_WORKERS, FTX_DEFAULT_MAX_CLIENTS,
	    FTX_DEFAULT_MAX_PER_IP, FTX_MIN_CHUNK, FTX_MAX_CHUNK,
	    FTX_DEFAULT_CHUNK, FTX_DEFAULT_IDLE_TIMEOUT_S,
	    FTX_DEFAULT_DATA_TIMEOUT_S, FTX_TOKEN_TTL_S, FTX_CHAT_RATE_WINDOW_S,
	    FTX_CHAT_RATE_DEFAULT, FTX_UDP_RATE_DEFAULT, FTX_SHUTDOWN_GRACE_S);
}

/* Parse a bounded integer option or exit with a usage error. */
static int
num(const char *opt, const char *s, uint64_t min, uint64_t max)
{
	uint64_t v;

	if (str_to_u64(s, max, &v) == -1 || v < min) {
		fprintf(stderr,
		    "ftxd: --%s: expected a number from %llu to %llu, "
		    "got '%s'\n",
		    opt, (unsigned long long)min, (unsigned long long)max, s);
		exit(2);
	}
	return (int)v;
}

enum {
	O_ROOT = 256,
	O_BIND,
	O_PORT,
	O_DPORT,
	O_WORKERS,
	O_MAXC,
	O_MAXIP,
	O_CHUNK,
	O_IDLE,
	O_DTO,
	O_TTL,
	O_LOG,
	O_CHATRATE,
	O_LOGCHAT,
	O_UDP,
	O_NOUDP,
	O_UDPRATE,
	O_HELP,
	O_VERSION
};

static const struct option longopts[] = {
    {"root", required_argument, NULL, O_ROOT},
    {"bind", required_argument, NULL, O_BIND},
    {"port", required_argument, NULL, O_PORT},
    {"data-port", required_argument, NULL, O_DPORT},
    {"workers", required_argument, NULL, O_WORKERS},
    {"max-clients", required_argument, NULL, O_MAXC},
    {"max-per-ip", required_argument, NULL, O_MAXIP},
    {"chunk-size", required_argument, NULL, O_CHUNK},
    {"idle-timeout", required_argument, NULL, O_IDLE},
    {"data-timeout", required_argument, NULL, O_DTO},
    {"token-ttl", required_argument, NULL, O_TTL},
    {"log", required_argument, NULL, O_LOG},
    {"chat-rate", required_argument, NULL, O_CHATRATE},
    {"log-chat", no_argument, NULL, O_LOGCHAT},
    {"udp-echo", no_argument, NULL, O_UDP},
    {"no-udp-echo", no_argument, NULL, O_NOUDP},
    {"udp-rate", required_argument, NULL, O_UDPRATE},
    {"help", no_argument, NULL, O_HELP},
    {"version", no_argument, NULL, O_VERSION},
    {NULL, 0, NULL, 0},
};

static void
parse(struct config *c, int argc, char **argv)
{
	int ch;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case O_ROOT:
			c->root = optarg;
			break;
		case O_BIND:
			c->bind = optarg;
			break;
		case O_PORT:
			c->port = num("port", optarg, 0, 65535);
			break;
		case O_DPORT:
			c->data_port = num("data-port", optarg, 0, 65535);
			break;
		case O_WORKERS:
			c->workers = num("workers", optarg, 1, FTX_MAX_WORKERS);
			break;
		case O_MAXC:
			c->max_clients = num("max-clients", optarg, 1, 1000000);
			break;
		case O_MAXIP:
			c->max_per_ip = num("max-per-ip", optarg, 1, 1000000);
			break;
		case O_CHUNK:
			c->chunk = (size_t)num(
			    "chunk-size", optarg, FTX_MIN_CHUNK, FTX_MAX_CHUNK);
			break;
		case O_IDLE:
			c->idle_timeout =
			    num("idle-timeout", optarg, 1, FTX_MAX_TIMEOUT_S);
			break;
		case O_DTO:
			c->data_timeout =
			    num("data-timeout", optarg, 1, FTX_MAX_TIMEOUT_S);
			break;
		case O_TTL:
			c->token_ttl =
			    num("token-ttl", optarg, 1, FTX_MAX_TIMEOUT_S);
			break;
		case O_LOG:
			c->log = optarg;
			break;
		case O_CHATRATE:
			c->chat_rate =
			    num("chat-rate", optarg, 0, FTX_CHAT_RATE_MAX);
			break;
		case O_LOGCHAT:
			c->log_chat = 1;
			break;
		case O_UDP:
			c->udp_echo = 1;
			break;
		case O_NOUDP:
			c->udp_echo = 0;
			break;
		case O_UDPRATE:
			c->udp_rate =
			    num("udp-rate", optarg, 1, FTX_UDP_RATE_MAX);
			break;
		case O_HELP:
			usage(stdout);
			exit(0);
		case O_VERSION:
			printf("ftxd %s (protocol %s)\n", FTX_VERSION,
			    FTX_PROTO_VERSION);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind != argc) {
		fprintf(
		    stderr, "ftxd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		exit(2);
	}
}

int
main(int argc, char **argv)
{
	char err[FTX_ERRLEN];
	struct server srv;
	int rc;

	memset(&srv, 0, sizeof(srv));
	srv_defaults(&srv.cfg);
	parse(&srv.cfg, argc, argv);
	if (log_open(srv.cfg.log, err, sizeof(err)) == -1) {
		fprintf(stderr, "ftxd: %s\n", err);
		return 1;
	}
	if (srv_init(&srv, err, sizeof(err)) == -1) {
		log_msg(NULL, "fatal: %s", err);
		fprintf(stderr, "ftxd: %s\n", err);
		srv_free(&srv);
		return 1;
	}
	rc = srv_run(&srv);
	srv_free(&srv);
	log_close();
	return rc == 0 ? 0 : 1;
}
