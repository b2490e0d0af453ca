// SPDX-License-Identifier: GPL-2.0
/*
 * libkctl: output, as text or as JSON, from the same calls.
 *
 * JSON: one compact document per top-level value, then a newline; numbers
 * are JSON numbers, names are the spec's.  Text: one line per object,
 * "key value" pairs separated by spaces, nested objects on their own line
 * indented by a tab per level, e.g.
 *
 *	sock-id 1 family 4 flags none max-assocs 262144 ...
 *		stats tx-records 0 tx-bytes 0 ...
 *
 * Callers emit an object's scalars before its nested objects.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "kctl.h"

#define OUT_DEPTH	16

static struct {
	bool json;
	int depth;		/* JSON nesting */
	int indent;		/* text: objects open */
	bool bol;		/* text: at the beginning of a line */
	bool first[OUT_DEPTH];	/* JSON: no member yet at this depth */
} out = { .bol = true };

void out_init(bool json)
{
	memset(&out, 0, sizeof(out));
	out.json = json;
	out.bol = true;
}

bool out_json(void)
{
	return out.json;
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* Separator and key of a new JSON member, or spacing of a text pair. */
static void member(const char *key)
{
	if (out.json) {
		if (!out.first[out.depth])
			putchar(',');
		out.first[out.depth] = false;
		if (key) {
			json_str(key);
			putchar(':');
		}
		return;
	}
	if (out.bol) {
		for (int i = 1; i < out.indent; i++)
			putchar('\t');
		out.bol = false;
	} else {
		putchar(' ');
	}
	if (key)
		printf("%s ", key);
}

static void open_json(char c)
{
	putchar(c);
	if (out.depth < OUT_DEPTH - 1)
		out.depth++;
	out.first[out.depth] = true;
}

static void close_json(char c)
{
	putchar(c);
	if (out.depth)
		out.depth--;
	if (!out.depth) {
		putchar('\n');
		fflush(stdout);
	}
}

void out_begin(const char *key)
{
	if (out.json) {
		if (out.depth)
			member(key);
		open_json('{');
		return;
	}
	if (!out.bol)
		putchar('\n');
	out.bol = true;
	out.indent++;
	if (key) {
		member(NULL);
		fputs(key, stdout);
	}
}

void out_end(void)
{
	if (out.json) {
		close_json('}');
		return;
	}
	if (!out.bol)
		putchar('\n');
	out.bol = true;
	if (out.indent)
		out.indent--;
	if (!out.indent)
		fflush(stdout);
}

void out_list_begin(const char *key)
{
	if (!out.json)
		return;
	if (out.depth)
		member(key);
	open_json('[');
}

void out_list_end(void)
{
	if (out.json)
		close_json(']');
}

void out_u64(const char *key, uint64_t v)
{
	member(key);
	printf("%llu", (unsigned long long)v);
}

void out_str(const char *key, const char *v)
{
	member(key);
	if (out.json)
		json_str(v);
	else
		fputs(v, stdout);
}

void out_hex(const char *key, const uint8_t *buf, size_t len)
{
	member(key);
	if (out.json)
		putchar('"');
	for (size_t i = 0; i < len; i++)
		printf("%02x", buf[i]);
	if (out.json)
		putchar('"');
	else if (!len)
		putchar('-');
}

/*
 * "A.B.C.D:PORT" or "[V6]:PORT", from peer-addr4/6 and peer-port, into
 * @buf (KCTL_PEER_STRLEN); -1 when the message has no peer address.
 */
int kctl_peer_str(struct nlattr **tb, char *buf, size_t len)
{
	char addr[INET6_ADDRSTRLEN];
	unsigned int port = 0;

	if (tb[KDTLS_A_PEER_PORT])
		port = ntohs(nla_get_u16(tb[KDTLS_A_PEER_PORT]));
	if (tb[KDTLS_A_PEER_ADDR4] &&
	    inet_ntop(AF_INET, nla_data(tb[KDTLS_A_PEER_ADDR4]),
		      addr, sizeof(addr)))
		snprintf(buf, len, "%s:%u", addr, port);
	else if (tb[KDTLS_A_PEER_ADDR6] &&
		 inet_ntop(AF_INET6, nla_data(tb[KDTLS_A_PEER_ADDR6]),
			   addr, sizeof(addr)))
		snprintf(buf, len, "[%s]:%u", addr, port);
	else
		return -1;
	return 0;
}

void out_peer(const char *key, struct nlattr **tb)
{
	char buf[KCTL_PEER_STRLEN];

	if (!kctl_peer_str(tb, buf, sizeof(buf)))
		out_str(key, buf);
}

/* Flags as a JSON array of names, or comma-separated ("none" for 0). */
static void out_flags(const char *key, uint32_t flags,
		      const char *const *names, unsigned int n)
{
	bool first = true;
	char hex[16];

	if (out.json) {
		out_list_begin(key);
	} else {
		member(key);
		if (!flags)
			fputs("none", stdout);
	}
	for (unsigned int bit = 0; bit < 32; bit++) {
		const char *name = bit < n ? names[bit] : NULL;

		if (!(flags & (1U << bit)))
			continue;
		if (!name) {
			snprintf(hex, sizeof(hex), "0x%x", 1U << bit);
			name = hex;
		}
		if (out.json) {
			out_str(NULL, name);
		} else {
			printf("%s%s", first ? "" : ",", name);
			first = false;
		}
	}
	if (out.json)
		out_list_end();
}

void out_sock_flags(const char *key, uint32_t flags)
{
	static const char *const names[] = { "agent" };

	out_flags(key, flags, names, 1);
}

void out_record_flags(const char *key, uint32_t flags)
{
	static const char *const names[] = { "seal", "opened" };

	out_flags(key, flags, names, 2);
}

static const char *const stat_names[] = {
	[KDTLS_STAT_TX_RECORDS]		= "tx-records",
	[KDTLS_STAT_TX_BYTES]		= "tx-bytes",
	[KDTLS_STAT_TX_ERRORS]		= "tx-errors",
	[KDTLS_STAT_TX_NO_ASSOC]	= "tx-no-assoc",
	[KDTLS_STAT_RX_RECORDS]		= "rx-records",
	[KDTLS_STAT_RX_BYTES]		= "rx-bytes",
	[KDTLS_STAT_RX_TO_AGENT]	= "rx-to-agent",
	[KDTLS_STAT_RX_TO_APP]		= "rx-to-app",
	[KDTLS_STAT_DROP_MALFORMED]	= "drop-malformed",
	[KDTLS_STAT_DROP_VERSION]	= "drop-version",
	[KDTLS_STAT_DROP_TYPE]		= "drop-type",
	[KDTLS_STAT_DROP_EPOCH]		= "drop-epoch",
	[KDTLS_STAT_DROP_REPLAY]	= "drop-replay",
	[KDTLS_STAT_DROP_AUTH]		= "drop-auth",
	[KDTLS_STAT_DROP_TOO_BIG]	= "drop-too-big",
	[KDTLS_STAT_DROP_NO_AGENT]	= "drop-no-agent",
	[KDTLS_STAT_DROP_AGENT_BUSY]	= "drop-agent-busy",
	[KDTLS_STAT_DROP_NOMEM]		= "drop-nomem",
	[KDTLS_STAT_REKEY_TX]		= "rekey-tx",
	[KDTLS_STAT_REKEY_RX]		= "rekey-rx",
};

/*
 * A stats nest: every u64 member by its spec name, in the order the kernel
 * sent them; counters newer than this tool appear as "stat-N".
 */
void out_stats(const char *key, struct nlattr *nest)
{
	struct nlattr *a;
	char name[16];
	int rem;

	out_begin(key);
	nla_for_each_nested(a, nest, rem) {
		int type = nla_type(a);

		if (!type || nla_len(a) != sizeof(uint64_t))
			continue;	/* padding */
		if (kctl_stat_name(type)) {
			out_u64(kctl_stat_name(type), nla_get_u64(a));
		} else {
			snprintf(name, sizeof(name), "stat-%d", type);
			out_u64(name, nla_get_u64(a));
		}
	}
	out_end();
}

/* Spec name of a counter, NULL for one newer than this tool. */
const char *kctl_stat_name(unsigned int stat)
{
	if (stat <= KDTLS_STAT_MAX)
		return stat_names[stat];
	return NULL;
}

static const char *const cipher_names[] = {
	[KDTLS_CIPHER_UNSPEC]		= "unspec",
	[KDTLS_CIPHER_AES_128_GCM]	= "aes-128-gcm",
	[KDTLS_CIPHER_AES_256_GCM]	= "aes-256-gcm",
	[KDTLS_CIPHER_CHACHA20_POLY1305] = "chacha20-poly1305",
	[KDTLS_CIPHER_AES_128_CCM]	= "aes-128-ccm",
	[KDTLS_CIPHER_AES_128_CCM_8]	= "aes-128-ccm-8",
};

const char *kctl_cipher_name(unsigned int cipher)
{
	if (cipher < __KDTLS_CIPHER_MAX && cipher_names[cipher])
		return cipher_names[cipher];
	return NULL;
}

static const char *const attr_names[] = {
	[KDTLS_A_SOCK_FD]		= "sock-fd",
	[KDTLS_A_SOCK_ID]		= "sock-id",
	[KDTLS_A_SOCK_FLAGS]		= "sock-flags",
	[KDTLS_A_SOCK_MAX_ASSOCS]	= "sock-max-assocs",
	[KDTLS_A_SOCK_FAMILY]		= "sock-family",
	[KDTLS_A_SOCK_NUM_ASSOCS]	= "sock-num-assocs",
	[KDTLS_A_SOCK_AGENT_PORTID]	= "sock-agent-portid",
	[KDTLS_A_SOCK_STATS]		= "sock-stats",
	[KDTLS_A_PEER_ADDR4]		= "peer-addr4",
	[KDTLS_A_PEER_ADDR6]		= "peer-addr6",
	[KDTLS_A_PEER_PORT]		= "peer-port",
	[KDTLS_A_ASSOC_VERSION]		= "assoc-version",
	[KDTLS_A_ASSOC_CIPHER]		= "assoc-cipher",
	[KDTLS_A_ASSOC_TX]		= "assoc-tx",
	[KDTLS_A_ASSOC_RX]		= "assoc-rx",
	[KDTLS_A_ASSOC_REPLAY_WINDOW]	= "assoc-replay-window",
	[KDTLS_A_ASSOC_RX_GRACE_MS]	= "assoc-rx-grace-ms",
	[KDTLS_A_ASSOC_MAX_PAYLOAD]	= "assoc-max-payload",
	[KDTLS_A_ASSOC_STATS]		= "assoc-stats",
	[KDTLS_A_RECORD_TYPE]		= "record-type",
	[KDTLS_A_RECORD_FLAGS]		= "record-flags",
	[KDTLS_A_RECORD_DATA]		= "record-data",
	[KDTLS_A_RECORD_EPOCH]		= "record-epoch",
	[KDTLS_A_RECORD_SEQ]		= "record-seq",
	[KDTLS_A_PAD]			= "pad",
};

static const char *const key_attr_names[] = {
	[KDTLS_A_KEY_EPOCH]	= "epoch",
	[KDTLS_A_KEY_SEQ]	= "seq",
	[KDTLS_A_KEY_KEY]	= "key",
	[KDTLS_A_KEY_SALT]	= "salt",
	[KDTLS_A_KEY_PAD]	= "pad",
};

/* Spec name of an attribute of the kdtls set, or of the key set. */
const char *kctl_attr_name(int type, bool key_set)
{
	if (key_set) {
		if (type > 0 && type <= KDTLS_A_KEY_MAX)
			return key_attr_names[type];
		return NULL;
	}
	if (type > 0 && type <= KDTLS_A_MAX)
		return attr_names[type];
	return NULL;
}
