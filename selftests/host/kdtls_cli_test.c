// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of the kdtls admin CLI's output (userspace/kdtls/text.c
 * and json.c, built unchanged with ASan/UBSan): units, which lines are
 * left out when zero, the drop-reason list, the field lists and the JSON
 * document, from snapshots made up here -- no kernel needed.  The VM test
 * kdtls_cli checks the same output against real traffic.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../harness.h"

#include "cli.h"

/* Text comparison that shows both sides when they differ. */
#define TEXT_EQ(got, want) do {						\
	const char *__g = (got), *__w = (want);				\
	if (strcmp(__g, __w))						\
		th_log("%s:%d: got:\n%s\nwant:\n%s", __FILE__, __LINE__,	\
		       __g, __w);					\
	EXPECT_TRUE(!strcmp(__g, __w));					\
} while (0)

/* Run @fn with stdout captured; the text, NUL-terminated (free it). */
static char *capture(void (*fn)(void *), void *arg)
{
	FILE *tmp = tmpfile();
	int saved, len;
	char *buf;

	fflush(stdout);
	saved = dup(1);
	dup2(fileno(tmp), 1);
	fn(arg);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	len = (int)lseek(fileno(tmp), 0, SEEK_END);
	buf = calloc(1, len + 1);
	if (pread(fileno(tmp), buf, len, 0) != len)
		buf[0] = '\0';
	fclose(tmp);
	return buf;
}

static void stat_set(struct kcli_stats *s, unsigned int stat, uint64_t v)
{
	s->v[stat] = v;
}

/* Every counter of the uAPI sent, as the kernel does. */
static void stats_all(struct kcli_stats *s)
{
	memset(s, 0, sizeof(*s));
	for (unsigned int i = 1; i <= KDTLS_STAT_MAX; i++)
		s->present |= 1ULL << i;
}

/*
 * socket 7 (IPv4, no agent) with two peers: 10.0.0.1:5000 carried 1536
 * bytes each way in 3 records, 10.0.0.2:6000 has 2 auth drops; the
 * socket has 3 auth drops and 1 replay drop.
 */
static struct kcli_assoc assocs[2];
static struct kcli_sock sock;
static struct kcli_snap snap = { .socks = &sock, .nsocks = 1 };

static void make_snap(void)
{
	memset(&sock, 0, sizeof(sock));
	memset(assocs, 0, sizeof(assocs));
	sock.id = 7;
	sock.family = AF_INET;
	sock.max_assocs = 100;
	sock.num_assocs = 2;
	stats_all(&sock.stats);
	stat_set(&sock.stats, KDTLS_STAT_RX_BYTES, 1536);
	stat_set(&sock.stats, KDTLS_STAT_TX_BYTES, 1536);
	stat_set(&sock.stats, KDTLS_STAT_RX_RECORDS, 3);
	stat_set(&sock.stats, KDTLS_STAT_TX_RECORDS, 3);
	stat_set(&sock.stats, KDTLS_STAT_DROP_AUTH, 3);
	stat_set(&sock.stats, KDTLS_STAT_DROP_REPLAY, 1);

	strcpy(assocs[0].peer, "10.0.0.1:5000");
	assocs[0].version = KDTLS_VERSION_1_2;
	assocs[0].cipher = KDTLS_CIPHER_AES_128_GCM;
	assocs[0].replay_window = 64;
	assocs[0].rx_grace_ms = 10000;
	assocs[0].max_payload = 16384;
	assocs[0].tx = (struct kcli_key){ true, 1, 3 };
	assocs[0].rx = (struct kcli_key){ true, 1, 3 };
	stats_all(&assocs[0].stats);
	stat_set(&assocs[0].stats, KDTLS_STAT_RX_BYTES, 1536);
	stat_set(&assocs[0].stats, KDTLS_STAT_TX_BYTES, 1536);
	stat_set(&assocs[0].stats, KDTLS_STAT_RX_RECORDS, 3);
	stat_set(&assocs[0].stats, KDTLS_STAT_TX_RECORDS, 3);

	assocs[1] = assocs[0];
	strcpy(assocs[1].peer, "10.0.0.2:6000");
	assocs[1].cipher = KDTLS_CIPHER_CHACHA20_POLY1305;
	assocs[1].tx = (struct kcli_key){ true, 2, 0 };
	assocs[1].rx = (struct kcli_key){ false, 0, 0 };
	stats_all(&assocs[1].stats);
	stat_set(&assocs[1].stats, KDTLS_STAT_DROP_AUTH, 2);
	stat_set(&assocs[1].stats, KDTLS_STAT_REKEY_TX, 1);

	sock.assocs = assocs;
	sock.nassocs = 2;
}

TEST(bytes_in_binary_units)
{
	static const struct { uint64_t n; const char *s; } v[] = {
		{ 0, "0 B" }, { 1023, "1023 B" }, { 1024, "1.00 KiB" },
		{ 1536, "1.50 KiB" }, { 5ULL << 20, "5.00 MiB" },
		{ 3ULL << 30, "3.00 GiB" }, { 1ULL << 40, "1.00 TiB" },
	};
	char buf[32];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		TEXT_EQ(kcli_bytes(v[i].n, buf, sizeof(buf)), v[i].s);
}

static void show(void *verbose)
{
	kcli_text_show(&snap, *(bool *)verbose);
}

TEST(show_leaves_zero_lines_out)
{
	bool verbose = false;
	char *out;

	make_snap();
	out = capture(show, &verbose);
	TEXT_EQ(out,
		"socket: 7\n"
		"  family: IPv4\n"
		"  agent: none (handshake records go to the application)\n"
		"  associations: 2 (limit 100)\n"
		"  transfer: 1.50 KiB received, 1.50 KiB sent\n"
		"  records: 3 received, 3 sent\n"
		"  drops: 1 replay, 3 auth\n"
		"\n"
		"peer: 10.0.0.1:5000\n"
		"  cipher: aes-128-gcm, DTLS 1.2\n"
		"  tx: epoch 1, next seq 3\n"
		"  rx: epoch 1, next expected seq 3, replay window 64\n"
		"  transfer: 1.50 KiB received, 1.50 KiB sent\n"
		"  records: 3 received, 3 sent\n"
		"\n"
		"peer: 10.0.0.2:6000\n"
		"  cipher: chacha20-poly1305, DTLS 1.2\n"
		"  tx: epoch 2, next seq 0\n"
		"  rx: no key\n"
		"  transfer: 0 B received, 0 B sent\n"
		"  records: 0 received, 0 sent\n"
		"  rekeys: 1 tx, 0 rx\n"
		"  drops: 2 auth\n");
	free(out);
}

TEST(show_verbose_lists_every_reason)
{
	bool verbose = true;
	char *out;

	make_snap();
	out = capture(show, &verbose);
	EXPECT_TRUE(strstr(out, "  drops: 0 malformed, 0 version, 0 type, "
			   "0 epoch, 1 replay, 3 auth, 0 too-big, 0 no-agent, "
			   "0 agent-busy, 0 nomem\n") != NULL);
	EXPECT_TRUE(strstr(out, "  send errors: 0 failed, 0 without "
			   "association\n") != NULL);
	EXPECT_TRUE(strstr(out, "  limits: 16384 B payload, old rx epoch "
			   "kept 10000 ms\n") != NULL);
	free(out);
}

TEST(unknown_counters_are_shown_by_number)
{
	bool verbose = false;
	char *out;

	make_snap();
	sock.stats.present |= 1ULL << 40;
	sock.stats.v[40] = 9;
	out = capture(show, &verbose);
	EXPECT_TRUE(strstr(out, "  stat-40: 9\n") != NULL);
	free(out);
}

struct field_arg {
	enum kcli_field field;
	bool prefix;
};

static void field(void *arg)
{
	struct field_arg *f = arg;

	kcli_text_field(&snap, f->field, f->prefix);
}

TEST(field_lists)
{
	struct field_arg f = { KCLI_EPOCHS, true };
	char *out;

	make_snap();
	out = capture(field, &f);
	TEXT_EQ(out, "7\t10.0.0.1:5000\t1\t3\t1\t3\n"
			  "7\t10.0.0.2:6000\t2\t0\t0\t0\n");
	free(out);

	f = (struct field_arg){ KCLI_DROPS, false };
	out = capture(field, &f);
	TEXT_EQ(out, "socket\treplay\t1\nsocket\tauth\t3\n"
			  "10.0.0.2:6000\tauth\t2\n");
	free(out);

	f = (struct field_arg){ KCLI_TRANSFER, false };
	out = capture(field, &f);
	TEXT_EQ(out, "10.0.0.1:5000\t1536\t1536\n10.0.0.2:6000\t0\t0\n");
	free(out);

	f = (struct field_arg){ KCLI_SOCKETS, false };
	out = capture(field, &f);
	TEXT_EQ(out, "7\n");
	free(out);
}

static void json(void *arg)
{
	(void)arg;
	kcli_json_show(&snap);
}

TEST(json_document)
{
	char *out;

	make_snap();
	sock.nassocs = 1;
	out = capture(json, NULL);
	TEXT_EQ(out,
		"[{\"sock-id\":7,\"family\":4,\"flags\":[],\"max-assocs\":100,"
		"\"num-assocs\":2,\"agent-portid\":0,\"stats\":{"
		"\"tx-records\":3,\"tx-bytes\":1536,\"tx-errors\":0,"
		"\"tx-no-assoc\":0,\"rx-records\":3,\"rx-bytes\":1536,"
		"\"rx-to-agent\":0,\"rx-to-app\":0,\"drop-malformed\":0,"
		"\"drop-version\":0,\"drop-type\":0,\"drop-epoch\":0,"
		"\"drop-replay\":1,\"drop-auth\":3,\"drop-too-big\":0,"
		"\"drop-no-agent\":0,\"drop-agent-busy\":0,\"drop-nomem\":0,"
		"\"rekey-tx\":0,\"rekey-rx\":0},\"peers\":[{"
		"\"peer\":\"10.0.0.1:5000\",\"version\":65277,"
		"\"cipher\":\"aes-128-gcm\",\"replay-window\":64,"
		"\"rx-grace-ms\":10000,\"max-payload\":16384,"
		"\"tx\":{\"epoch\":1,\"seq\":3},\"rx\":{\"epoch\":1,\"seq\":3},"
		"\"stats\":{\"tx-records\":3,\"tx-bytes\":1536,\"tx-errors\":0,"
		"\"tx-no-assoc\":0,\"rx-records\":3,\"rx-bytes\":1536,"
		"\"rx-to-agent\":0,\"rx-to-app\":0,\"drop-malformed\":0,"
		"\"drop-version\":0,\"drop-type\":0,\"drop-epoch\":0,"
		"\"drop-replay\":0,\"drop-auth\":0,\"drop-too-big\":0,"
		"\"drop-no-agent\":0,\"drop-agent-busy\":0,\"drop-nomem\":0,"
		"\"rekey-tx\":0,\"rekey-rx\":0}}]}]\n");
	free(out);
}

TEST(json_of_nothing_is_an_empty_array)
{
	struct kcli_snap none = { 0 };
	struct kcli_snap saved = snap;
	char *out;

	snap = none;
	out = capture(json, NULL);
	snap = saved;
	TEXT_EQ(out, "[]\n");
	free(out);
}

TEST(nobody_holds_an_unused_port)
{
	char buf[64];

	/* port ids above 2^31 are the kernel's autobind range, unused here */
	EXPECT_EQ(kcli_netlink_owner(0xfffffff0u, buf, sizeof(buf)), -1);
}

TEST_HARNESS_MAIN
