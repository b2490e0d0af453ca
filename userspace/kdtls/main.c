// SPDX-License-Identifier: GPL-2.0
/*
 * kdtls: look at kdtls.ko the way `wg` looks at WireGuard -- the sockets
 * of this network namespace, their handshake agent, their associations
 * (peer, cipher, epochs, sequence numbers), counters and drop reasons --
 * and watch its events.
 *
 *   kdtls [show [all | sockets | SOCK-ID] [FIELD]] [--json] [-v]
 *   kdtls monitor [--json]
 *
 * FIELD: peers, ciphers, epochs, transfer, drops, stats.
 *
 * It only reads (sock-get, assoc-get and the "events" group need no
 * privilege); changing things is the handshake agent's job (kdtlsd) or,
 * for tests and debugging, kdtlsctl's.  Man page: kdtls(8).
 *
 * Exit status: 0 success, 1 failure (kernel or system, message on
 * stderr), 2 bad usage.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char usage_text[] =
	"usage: kdtls [show [all | sockets | SOCK-ID] [FIELD]] [--json] [-v]\n"
	"       kdtls monitor [--json]\n"
	"\n"
	"Show the DTLS 1.2 sockets of kdtls.ko in this network namespace:\n"
	"their handshake agent, associations (peer, cipher, epochs,\n"
	"sequence numbers), traffic and drop reasons.\n"
	"\n"
	"  show                 every socket and association (= show all)\n"
	"  show SOCK-ID         one socket and its associations\n"
	"  show sockets         the sock-ids, one per line\n"
	"  show ... FIELD       one tab-separated line per item, for scripts;\n"
	"                       with all, the sock-id comes first:\n"
	"      peers            PEER\n"
	"      ciphers          PEER CIPHER\n"
	"      epochs           PEER TX-EPOCH TX-SEQ RX-EPOCH RX-SEQ\n"
	"      transfer         PEER RX-BYTES TX-BYTES\n"
	"      drops            SCOPE REASON COUNT (non-zero reasons only)\n"
	"      stats            SCOPE COUNTER VALUE (every counter)\n"
	"                       (SCOPE: \"socket\" or the PEER)\n"
	"  monitor              print the kernel's events as they happen\n"
	"\n"
	"  --json, -j           one JSON document (show) or object per line\n"
	"                       (monitor), every counter included\n"
	"  --verbose, -v        also zero counters and every drop reason\n"
	"\n"
	"PEER is A.B.C.D:PORT or [IPV6]:PORT.  See kdtls(8).\n";

static int usage(const char *fmt, const char *arg)
{
	fflush(stdout);
	fprintf(stderr, "kdtls: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'kdtls --help'.\n");
	return KCTL_EXIT_USAGE;
}

static const struct {
	const char *name;
	enum kcli_field field;
} fields[] = {
	{ "peers",	KCLI_PEERS },
	{ "ciphers",	KCLI_CIPHERS },
	{ "epochs",	KCLI_EPOCHS },
	{ "transfer",	KCLI_TRANSFER },
	{ "drops",	KCLI_DROPS },
	{ "stats",	KCLI_STATS },
};

struct opts {
	bool json;
	bool verbose;
	const char *words[3];	/* the command and its positional words */
	int nwords;
};

/* Options may come anywhere; the rest are the command's words. */
static int parse(int argc, char **argv, struct opts *o)
{
	bool dashdash = false;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!dashdash && a[0] == '-' && a[1]) {
			if (!strcmp(a, "--json") || !strcmp(a, "-j"))
				o->json = true;
			else if (!strcmp(a, "--verbose") || !strcmp(a, "-v"))
				o->verbose = true;
			else if (!strcmp(a, "--"))
				dashdash = true;
			else
				return usage("unknown option %s", a);
			continue;
		}
		if (o->nwords == 3)
			return usage("unexpected argument: %s", a);
		o->words[o->nwords++] = a;
	}
	return KCTL_EXIT_OK;
}

static int cmd_show(const struct opts *o)
{
	enum kcli_field field = KCLI_ALL;
	const char *which = o->nwords > 1 ? o->words[1] : "all";
	struct kcli_snap snap;
	bool one = false;
	uint32_t id = 0;
	int ret;

	if (!strcmp(which, "sockets")) {
		field = KCLI_SOCKETS;
		if (o->nwords > 2)
			return usage("show sockets: unexpected argument: %s",
				     o->words[2]);
	} else if (strcmp(which, "all")) {
		if (kctl_parse_u32(which, &id))
			return usage("show: not all, sockets or a sock-id: %s",
				     which);
		one = true;
	}
	if (o->nwords > 2) {
		size_t i;

		for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
			if (!strcmp(o->words[2], fields[i].name))
				break;
		if (i == sizeof(fields) / sizeof(fields[0]))
			return usage("show: unknown field %s (peers, ciphers, "
				     "epochs, transfer, drops, stats)",
				     o->words[2]);
		field = fields[i].field;
	}
	if (o->json && field != KCLI_ALL)
		return usage("%s: --json shows everything; select with jq",
			     field == KCLI_SOCKETS ? "sockets" : o->words[2]);

	ret = kcli_snap_get(&snap, one, id);
	if (ret)
		return ret;
	if (o->json)
		kcli_json_show(&snap);
	else if (field == KCLI_ALL)
		kcli_text_show(&snap, o->verbose);
	else
		kcli_text_field(&snap, field, !one);
	kcli_snap_free(&snap);
	if (fflush(stdout) || ferror(stdout)) {
		kctl_err("writing the output failed");
		return KCTL_EXIT_FAIL;
	}
	return KCTL_EXIT_OK;
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	const char *cmd;
	int ret;

	kctl_prog = "kdtls";
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h") ||
		    (i == 1 && !strcmp(argv[i], "help"))) {
			fputs(usage_text, stdout);
			return KCTL_EXIT_OK;
		}
		if (!strcmp(argv[i], "--"))
			break;
	}
	ret = parse(argc, argv, &o);
	if (ret)
		return ret;
	cmd = o.nwords ? o.words[0] : "show";
	if (!strcmp(cmd, "show"))
		return cmd_show(&o);
	if (!strcmp(cmd, "monitor")) {
		if (o.nwords > 1)
			return usage("monitor: unexpected argument: %s",
				     o.words[1]);
		if (o.verbose)
			return usage("monitor: %s has no meaning here", "-v");
		return kcli_monitor(o.json);
	}
	return usage("unknown command: %s (show, monitor)", cmd);
}
