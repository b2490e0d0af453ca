// SPDX-License-Identifier: GPL-2.0
/*
 * kdtlsctl: control kdtls.ko (DTLS 1.2 record layer for UDP sockets) over
 * its generic netlink family.  For tests, the demo and debugging; kdtlsd
 * is the real handshake agent.
 *
 *   kdtlsctl socket [--family 4|6] [--bind ADDR:PORT] [--connect ADDR:PORT]
 *                   [--fd N] -- CMD [ARG...]
 *   kdtlsctl attach --fd N [--agent] [--max-assocs N] [--flags N] [--gro]
 *   kdtlsctl set --fd N [--agent] [--max-assocs N] [--flags N]
 *		  [--gro|--no-gro]
 *   kdtlsctl detach --fd N
 *   kdtlsctl assoc add --fd N --peer ADDR:PORT --cipher CIPHER
 *                   --tx-epoch E [--tx-seq S] --tx-key HEX --tx-salt HEX
 *                   --rx-epoch E [--rx-seq S] --rx-key HEX --rx-salt HEX
 *                   [--replay-window N] [--rx-grace-ms N] [--max-payload N]
 *                   [--version V]
 *   kdtlsctl assoc del --fd N --peer ADDR:PORT
 *   kdtlsctl assoc rekey --fd N --peer ADDR:PORT
 *                   [--tx-epoch E --tx-seq S --tx-key HEX --tx-salt HEX]
 *                   [--rx-epoch E --rx-seq S --rx-key HEX --rx-salt HEX]
 *   kdtlsctl show [--fd N | --id N [--peer ADDR:PORT]] [--json]
 *   kdtlsctl send --fd N --peer ADDR:PORT [--seal] [--type T] [--flags N]
 *                   --data HEX
 *   kdtlsctl monitor [--agent --fd N] [--json]
 *   kdtlsctl batch FILE|-
 *
 * Sockets are named by a file descriptor of this process (the kernel looks
 * the fd up in the caller's table), hence "socket", which creates a UDP
 * socket on fd 3 and execs a command that inherits it:
 *
 *   kdtlsctl socket --bind 127.0.0.1:4444 -- sh -c '
 *	kdtlsctl attach --fd 3 &&
 *	kdtlsctl assoc add --fd 3 --peer 127.0.0.1:5555 ... &&
 *	exec ./app --fd 3'
 *
 * and "batch", which runs one command per line in this one process, over
 * one netlink socket (so "attach --agent" followed by "monitor" keeps this
 * process the agent).
 *
 * Exit status: 0 success, 1 the kernel or the system refused (message
 * "kdtlsctl: OP: STRERROR: EXTACK"), 2 bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kdtlsctl.h"

struct kctl_cmd {
	const char *name;
	const char *sub;
	int (*fn)(int argc, char **argv);
	const char *usage;
};

static const struct kctl_cmd cmds[] = {
	{ "socket", NULL, cmd_socket,
	  "socket [--family 4|6] [--bind ADDR:PORT] [--connect ADDR:PORT]\n"
	  "\t\t[--fd N] -- CMD [ARG...]\n"
	  "\tCreate a UDP socket on fd N (default 3), bind and connect it,\n"
	  "\texec CMD with it; CMD sees KDTLSCTL_FD and KDTLSCTL_LOCAL\n"
	  "\t(the bound ADDR:PORT, useful with port 0).  The family comes\n"
	  "\tfrom --bind if not given; IPv4 addresses with --family 6 are\n"
	  "\tIPv4-mapped.  Without --bind the socket stays unbound.\n" },
	{ "attach", NULL, cmd_attach,
	  "attach --fd N [--agent] [--max-assocs N] [--flags N] [--gro]\n"
	  "\tsock-attach; prints \"sock-id ID\".  --agent makes this\n"
	  "\tprocess the agent (useful in batch or monitor only); --flags\n"
	  "\tadds raw flag bits; --gro turns UDP GRO on for a reader that\n"
	  "\tstill gets one record per read (sock-gro).\n" },
	{ "set", NULL, cmd_set,
	  "set --fd N [--agent] [--max-assocs N] [--flags N] [--gro|--no-gro]\n"
	  "\tsock-set: --agent makes this process the agent (a restarted\n"
	  "\tdaemon takes a socket back), without it the socket has none;\n"
	  "\t--max-assocs changes the limit; --gro and --no-gro switch\n"
	  "\tsock-gro (left as it is without either).\n" },
	{ "detach", NULL, cmd_detach,
	  "detach --fd N\n"
	  "\tsock-detach.\n" },
	{ "assoc", "add", cmd_assoc_add,
	  "assoc add --fd N --peer ADDR:PORT --cipher CIPHER\n"
	  "\t\t--tx-epoch E [--tx-seq S] --tx-key HEX --tx-salt HEX\n"
	  "\t\t--rx-epoch E [--rx-seq S] --rx-key HEX --rx-salt HEX\n"
	  "\t\t[--replay-window N] [--rx-grace-ms N] [--max-payload N]\n"
	  "\t\t[--version V]\n"
	  "\tassoc-add.  CIPHER: aes-128-gcm, aes-256-gcm,\n"
	  "\tchacha20-poly1305, aes-128-ccm, aes-128-ccm-8 or a number.\n"
	  "\t--version defaults to 0xfefd.  Attributes not given are not\n"
	  "\tsent: the kernel decides what is missing.\n" },
	{ "assoc", "del", cmd_assoc_del,
	  "assoc del --fd N --peer ADDR:PORT\n"
	  "\tassoc-del.\n" },
	{ "assoc", "rekey", cmd_assoc_rekey,
	  "assoc rekey --fd N --peer ADDR:PORT\n"
	  "\t\t[--tx-epoch E --tx-seq S --tx-key HEX --tx-salt HEX]\n"
	  "\t\t[--rx-epoch E --rx-seq S --rx-key HEX --rx-salt HEX]\n"
	  "\tassoc-rekey; a direction is sent if any of its options is.\n" },
	{ "show", NULL, cmd_show,
	  "show [--fd N | --id N [--peer ADDR:PORT]] [--json]\n"
	  "\tNo socket: every socket of the namespace (sock-get dump).\n"
	  "\tA socket: it and its associations (assoc-get dump).  With\n"
	  "\t--peer: that association only.  Stats by their spec names.\n" },
	{ "send", NULL, cmd_send,
	  "send --fd N --peer ADDR:PORT [--seal] [--type T] [--flags N]\n"
	  "\t\t--data HEX\n"
	  "\trecord-send.  T: change_cipher_spec|ccs, alert, handshake,\n"
	  "\tapplication_data|data or a number.\n" },
	{ "monitor", NULL, cmd_monitor,
	  "monitor [--agent --fd N] [--json]\n"
	  "\tPrint \"events\" notifications (and, as agent of fd N, record\n"
	  "\tnotifications), one line each, until killed.  Prints\n"
	  "\t\"listening\" once subscribed.\n" },
	{ "batch", NULL, NULL,
	  "batch FILE|-\n"
	  "\tRun one command per line (words split on blanks, '#' starts\n"
	  "\ta comment) in this process; stop at the first failure.\n" },
};

#define NCMDS	(sizeof(cmds) / sizeof(cmds[0]))

static const struct kctl_cmd *cur;

const char *kctl_cmd_name(void)
{
	return cur ? cur->name : "kdtlsctl";
}

static void print_usage(FILE *f, const struct kctl_cmd *c)
{
	fprintf(f, "  kdtlsctl %s\n", c->usage);
}

static void help(FILE *f)
{
	fputs("usage: kdtlsctl COMMAND [OPTION...]\n"
	      "Control kdtls.ko, the DTLS 1.2 record layer for UDP sockets.\n"
	      "\n", f);
	for (size_t i = 0; i < NCMDS; i++)
		print_usage(f, &cmds[i]);
	fputs("Sockets are named by a file descriptor of kdtlsctl itself:\n"
	      "run it under \"kdtlsctl socket\" or another program that\n"
	      "passes the socket down, e.g.\n"
	      "  kdtlsctl socket --bind 127.0.0.1:4444 -- sh -c \\\n"
	      "    'kdtlsctl attach --fd 3 &&\n"
	      "     kdtlsctl assoc add --fd 3 ... && exec ./app'\n"
	      "ADDR:PORT is A.B.C.D:PORT or [IPV6]:PORT.  Numbers may be\n"
	      "decimal or 0x-hex.  HEX is an even number of hex digits\n"
	      "(0x prefix and ':' between bytes allowed); key and salt\n"
	      "arguments are wiped from memory once parsed, but were visible\n"
	      "in /proc until then: use kdtlsd for real keys.\n"
	      "\n"
	      "Exit status: 0 success; 1 refused, with\n"
	      "  \"kdtlsctl: OP: STRERROR: KERNEL MESSAGE\"; 2 bad usage.\n",
	      f);
}

/* A usage error of the current command: message, its synopsis, status 2. */
int kctl_usage(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("kdtlsctl: ", stderr);
	if (cur)
		fprintf(stderr, "%s%s%s: ", cur->name, cur->sub ? " " : "",
			cur->sub ?: "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (cur) {
		fputs("\nusage:\n", stderr);
		print_usage(stderr, cur);
	} else {
		fputs("\nTry 'kdtlsctl --help'.\n", stderr);
	}
	return KCTL_EXIT_USAGE;
}

/* getopt_long() returned '?' or ':' (optstring "+:", opterr 0). */
int kctl_opt_err(char **argv, int opt)
{
	if (opt == ':')
		return kctl_usage("%s needs a value", argv[optind - 1]);
	return kctl_usage("unknown option %s", argv[optind - 1]);
}

static int batch(const char *path);

/* argv[0] is the command word. */
static int dispatch(int argc, char **argv, bool in_batch)
{
	const struct kctl_cmd *c = NULL;
	int skip = 1;

	cur = NULL;
	for (size_t i = 0; i < NCMDS && !c; i++) {
		if (strcmp(argv[0], cmds[i].name))
			continue;
		if (!cmds[i].sub) {
			c = &cmds[i];
		} else if (argc > 1 && !strcmp(argv[1], cmds[i].sub)) {
			c = &cmds[i];
			skip = 2;
		}
	}
	if (!c) {
		if (!strcmp(argv[0], "assoc"))
			return kctl_usage("assoc: add, del or rekey");
		return kctl_usage("unknown command: %s", argv[0]);
	}
	cur = c;
	argc -= skip - 1;
	argv += skip - 1;
	if (argc > 1 &&
	    (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage:\n");
		print_usage(stdout, c);
		return KCTL_EXIT_OK;
	}
	if (c->fn)
		return c->fn(argc, argv);
	/* batch */
	if (in_batch)
		return kctl_usage("no batch inside a batch");
	if (argc != 2)
		return kctl_usage("one FILE or - needed");
	return batch(argv[1]);
}

#define BATCH_WORDS	128

static int batch(const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	char *line = NULL, *argv[BATCH_WORDS + 1], *p, *save;
	size_t cap = 0;
	unsigned int lineno = 0;
	int argc, ret = KCTL_EXIT_OK;
	ssize_t n;

	if (!f) {
		kctl_err("batch: %s: %s", path, strerror(errno));
		return KCTL_EXIT_FAIL;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		lineno++;
		p = strchr(line, '#');
		if (p)
			*p = '\0';
		argc = 0;
		for (p = strtok_r(line, " \t\r\n", &save); p;
		     p = strtok_r(NULL, " \t\r\n", &save)) {
			if (argc == BATCH_WORDS) {
				kctl_err("batch: line %u: too many words",
					 lineno);
				ret = KCTL_EXIT_USAGE;
				goto out;
			}
			argv[argc++] = p;
		}
		if (!argc)
			continue;
		argv[argc] = NULL;
		ret = dispatch(argc, argv, true);
		fflush(stdout);
		if (ret) {
			kctl_err("batch: stopped at line %u", lineno);
			goto out;
		}
	}
	if (ferror(f)) {
		kctl_err("batch: %s: %s", path, strerror(errno));
		ret = KCTL_EXIT_FAIL;
	}
out:
	/* Lines may have held keys. */
	if (line)
		explicit_bzero(line, cap);
	free(line);
	if (f != stdin)
		fclose(f);
	return ret;
}

int main(int argc, char **argv)
{
	opterr = 0;
	if (argc < 2) {
		help(stderr);
		return KCTL_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		help(stdout);
		return KCTL_EXIT_OK;
	}
	return dispatch(argc - 1, argv + 1, false);
}
