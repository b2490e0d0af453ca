// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of the echo examples' shared helpers
 * (examples/kdtls-echo-util.c, built unchanged with ASan/UBSan): the
 * --psk, --port, --count and --size parsers with every rejection, and
 * addresses as text.  The examples themselves need kdtls.ko and kdtlsd:
 * the VM test "examples" runs them.
 */
#include <arpa/inet.h>
#include <string.h>

#include "../harness.h"

#include "kdtls-echo.h"

TEST(psk_accepted)
{
	struct echo_psk p;

	ASSERT_EQ(echo_parse_psk("client1:00ff10", &p), 0);
	EXPECT_EQ(strcmp(p.id, "client1"), 0);
	EXPECT_EQ(p.key_len, 3);
	EXPECT_EQ(p.key[0], 0x00);
	EXPECT_EQ(p.key[1], 0xff);
	EXPECT_EQ(p.key[2], 0x10);
	/* the identity may hold ':' itself: the key follows the last one */
	ASSERT_EQ(echo_parse_psk("a:b:AbCd", &p), 0);
	EXPECT_EQ(strcmp(p.id, "a:b"), 0);
	EXPECT_EQ(p.key_len, 2);
	EXPECT_EQ(p.key[0], 0xab);
}

TEST(psk_refused)
{
	static const char *const bad[] = {
		"", "nocolon", ":00", "id:", "id:0", "id:0g", "id:zz",
		"id:0x00", "id: 00",
	};
	char longkey[3 + 2 * (KDTLS_PSK_MAX_KEY + 1) + 1] = "id:";
	char longid[KDTLS_PSK_MAX_IDENTITY + 2 + 3];
	char maxkey[3 + 2 * KDTLS_PSK_MAX_KEY + 1] = "id:";
	struct echo_psk p;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (echo_parse_psk(bad[i], &p) != -1)
			th_log("\"%s\" accepted", bad[i]);
		EXPECT_EQ(echo_parse_psk(bad[i], &p), -1);
	}
	memset(longkey + 3, 'a', 2 * (KDTLS_PSK_MAX_KEY + 1));
	EXPECT_EQ(echo_parse_psk(longkey, &p), -1);
	memset(maxkey + 3, 'a', 2 * KDTLS_PSK_MAX_KEY);
	EXPECT_EQ(echo_parse_psk(maxkey, &p), 0);
	EXPECT_EQ(p.key_len, KDTLS_PSK_MAX_KEY);
	memset(longid, 'i', KDTLS_PSK_MAX_IDENTITY + 1);
	strcpy(longid + KDTLS_PSK_MAX_IDENTITY + 1, ":00");
	EXPECT_EQ(echo_parse_psk(longid, &p), -1);
	/* a refused key leaves nothing behind */
	EXPECT_EQ(echo_parse_psk("id:00zz", &p), -1);
	EXPECT_EQ(p.key_len, 0);
	EXPECT_EQ(p.id[0], '\0');
}

TEST(numbers)
{
	EXPECT_EQ(echo_parse_port("1"), 1);
	EXPECT_EQ(echo_parse_port("65535"), 65535);
	EXPECT_EQ(echo_parse_port("0"), -1);
	EXPECT_EQ(echo_parse_port("65536"), -1);
	EXPECT_EQ(echo_parse_port("-1"), -1);
	EXPECT_EQ(echo_parse_port(" 1"), -1);
	EXPECT_EQ(echo_parse_port("12a"), -1);
	EXPECT_EQ(echo_parse_port(""), -1);
	EXPECT_EQ(echo_parse_port("99999999999999999999"), -1);
	EXPECT_EQ(echo_parse_num("16384", 1, ECHO_MAX_SIZE), 16384);
	EXPECT_EQ(echo_parse_num("16385", 1, ECHO_MAX_SIZE), -1);
	EXPECT_EQ(echo_parse_num("0", 0, 10), 0);
}

TEST(addresses_as_text)
{
	struct sockaddr_in s4 = { .sin_family = AF_INET,
				  .sin_port = htons(4433) };
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6,
				   .sin6_port = htons(1) };
	char buf[ECHO_ADDRSTRLEN];

	inet_pton(AF_INET, "192.0.2.1", &s4.sin_addr);
	inet_pton(AF_INET6, "2001:db8::1", &s6.sin6_addr);
	EXPECT_EQ(strcmp(echo_addr_str((void *)&s4, buf, sizeof(buf)),
			 "192.0.2.1:4433"), 0);
	EXPECT_EQ(strcmp(echo_addr_str((void *)&s6, buf, sizeof(buf)),
			 "[2001:db8::1]:1"), 0);
	EXPECT_EQ(strcmp(echo_peer_str(NULL, buf, sizeof(buf)), "?"), 0);
}

TEST(resolve_numeric_only_when_asked)
{
	struct sockaddr_storage ss;
	socklen_t len;

	ASSERT_EQ(echo_resolve("::1", 7, true, &ss, &len), 0);
	EXPECT_EQ(ss.ss_family, AF_INET6);
	EXPECT_EQ(len, sizeof(struct sockaddr_in6));
	EXPECT_EQ(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), 7);
	EXPECT_EQ(echo_resolve("localhost", 7, true, &ss, &len), -1);
	EXPECT_EQ(echo_resolve("not an address", 7, true, &ss, &len), -1);
}

TEST_HARNESS_MAIN
