// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of kmod/replay.c (compiled from the module's file):
 * numbered vectors in the style of WireGuard's selftest/counter.c, for
 * windows of 64, 128 and 1024 records, plus a randomized comparison with
 * a trivially correct model.
 */
#include "../harness.h"

#include "replay.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

enum { CHK, UPD };

struct rvec {
	int op;
	u64 seq;
	bool want;
};

static void run_vectors(u32 window, u64 floor, const struct rvec *v,
			size_t n)
{
	static struct kdtls_replay r;
	size_t i;

	kdtls_replay_init(&r, window, floor);
	for (i = 0; i < n; i++) {
		bool got = v[i].op == CHK ? kdtls_replay_check(&r, v[i].seq) :
					    kdtls_replay_update(&r, v[i].seq);

		if (got != v[i].want)
			TH_LOG("window %u floor %llu vector %zu: %s(%llu) = %d, want %d",
			       window, (unsigned long long)floor, i + 1,
			       v[i].op == CHK ? "check" : "update",
			       (unsigned long long)v[i].seq, got, v[i].want);
		EXPECT_EQ(got, v[i].want);
	}
}

TEST(round)
{
	EXPECT_EQ(kdtls_replay_round(0), 64);
	EXPECT_EQ(kdtls_replay_round(1), 64);
	EXPECT_EQ(kdtls_replay_round(63), 64);
	EXPECT_EQ(kdtls_replay_round(64), 64);
	EXPECT_EQ(kdtls_replay_round(65), 128);
	EXPECT_EQ(kdtls_replay_round(100), 128);
	EXPECT_EQ(kdtls_replay_round(1000), 1024);
	EXPECT_EQ(kdtls_replay_round(1024), 1024);
	EXPECT_EQ(kdtls_replay_round(1025), 1024);
	EXPECT_EQ(kdtls_replay_round(~0u), 1024);
}

TEST(init_sizes)
{
	struct kdtls_replay r;

	kdtls_replay_init(&r, 1, 7);
	EXPECT_EQ(r.size, 64);
	EXPECT_EQ(r.floor, 7);
	EXPECT_FALSE(r.any);
	kdtls_replay_init(&r, 129, 0);
	EXPECT_EQ(r.size, 192);
}

TEST(window_64_in_order_reorder_duplicate)
{
	static const struct rvec v[] = {
		/*  1 */ { CHK, 0, true },
		/*  2 */ { UPD, 0, true },
		/*  3 */ { CHK, 0, false },	/* duplicate */
		/*  4 */ { UPD, 0, false },
		/*  5 */ { UPD, 1, true },	/* in order */
		/*  6 */ { UPD, 2, true },
		/*  7 */ { UPD, 5, true },	/* gap */
		/*  8 */ { CHK, 4, true },	/* reordered, not seen */
		/*  9 */ { UPD, 4, true },
		/* 10 */ { UPD, 4, false },
		/* 11 */ { UPD, 3, true },
		/* 12 */ { CHK, 5, false },
		/* 13 */ { CHK, 6, true },
		/* 14 */ { UPD, 64, true },	/* window now (0, 64] */
		/* 15 */ { CHK, 0, false },	/* too old: 64 - 0 = 64 */
		/* 16 */ { CHK, 1, false },	/* in window, seen */
		/* 17 */ { CHK, 6, true },	/* in window, never seen */
		/* 18 */ { UPD, 6, true },
		/* 19 */ { CHK, 63, true },
		/* 20 */ { UPD, 63, true },
		/* 21 */ { UPD, 63, false },
		/* 22 */ { UPD, 65, true },
		/* 23 */ { CHK, 1, false },	/* now too old */
		/* 24 */ { CHK, 2, false },	/* in window, seen */
		/* 25 */ { CHK, 7, true },
	};

	run_vectors(64, 0, v, ARRAY_SIZE(v));
}

TEST(window_64_far_jump_clears)
{
	static const struct rvec v[] = {
		/*  1 */ { UPD, 0, true },
		/*  2 */ { UPD, 1, true },
		/*  3 */ { UPD, 1000, true },	/* far jump */
		/*  4 */ { CHK, 936, false },	/* 1000 - 64: too old */
		/*  5 */ { CHK, 937, true },	/* oldest in window */
		/*  6 */ { CHK, 960, true },	/* same bit as 0, cleared */
		/*  7 */ { CHK, 961, true },	/* same bit as 1, cleared */
		/*  8 */ { UPD, 937, true },
		/*  9 */ { UPD, 937, false },
		/* 10 */ { CHK, 1000, false },
		/* 11 */ { UPD, 999, true },
		/* 12 */ { UPD, 1001, true },
		/* 13 */ { CHK, 937, false },	/* now too old */
		/* 14 */ { CHK, 938, true },
	};

	run_vectors(64, 0, v, ARRAY_SIZE(v));
}

TEST(window_64_partial_slide_clears)
{
	static struct rvec v[64 + 16];
	size_t n = 0;
	u64 s;

	for (s = 0; s < 64; s++)
		v[n++] = (struct rvec){ UPD, s, true };
	v[n++] = (struct rvec){ UPD, 70, true };	/* slides by 7 */
	for (s = 64; s < 70; s++)	/* their bits held 0..5: cleared */
		v[n++] = (struct rvec){ CHK, s, true };
	v[n++] = (struct rvec){ CHK, 6, false };	/* too old */
	v[n++] = (struct rvec){ CHK, 7, false };	/* seen */
	v[n++] = (struct rvec){ UPD, 69, true };
	v[n++] = (struct rvec){ CHK, 69, false };
	v[n++] = (struct rvec){ CHK, 63, false };
	run_vectors(64, 0, v, n);
}

TEST(window_64_floor)
{
	static const struct rvec v[] = {
		/*  1 */ { CHK, 0, false },
		/*  2 */ { CHK, 99, false },
		/*  3 */ { UPD, 99, false },
		/*  4 */ { CHK, 100, true },
		/*  5 */ { UPD, 101, true },	/* first accepted above floor */
		/*  6 */ { CHK, 100, true },
		/*  7 */ { UPD, 100, true },
		/*  8 */ { CHK, 99, false },	/* below floor, in window */
		/*  9 */ { UPD, 300, true },
		/* 10 */ { CHK, 236, false },
		/* 11 */ { CHK, 237, true },
	};

	run_vectors(64, 100, v, ARRAY_SIZE(v));
}

TEST(window_64_seq_limits)
{
	static const struct rvec v[] = {
		/* 1 */ { UPD, 0xfffffffffff0ULL, true },
		/* 2 */ { UPD, 0xffffffffffffULL, true },
		/* 3 */ { CHK, 0xfffffffffff0ULL, false },
		/* 4 */ { CHK, 0xfffffffffff1ULL, true },
		/* 5 */ { CHK, 0xffffffffffc0ULL, true },
		/* 6 */ { CHK, 0xffffffffffbfULL, false },
		/* 7 */ { CHK, 0, false },
	};

	run_vectors(64, 0, v, ARRAY_SIZE(v));
}

TEST(window_128)
{
	static const struct rvec v[] = {
		/*  1 */ { UPD, 0, true },
		/*  2 */ { UPD, 127, true },
		/*  3 */ { CHK, 0, false },	/* seen, still in window */
		/*  4 */ { CHK, 1, true },
		/*  5 */ { CHK, 64, true },	/* same word as 0 mod 64 */
		/*  6 */ { UPD, 128, true },
		/*  7 */ { CHK, 0, false },	/* too old */
		/*  8 */ { CHK, 1, true },	/* oldest in window */
		/*  9 */ { UPD, 1, true },
		/* 10 */ { UPD, 200, true },
		/* 11 */ { CHK, 72, false },
		/* 12 */ { CHK, 73, true },
		/* 13 */ { CHK, 127, false },	/* seen */
		/* 14 */ { CHK, 128, false },
	};

	run_vectors(128, 0, v, ARRAY_SIZE(v));
	/* 100 rounds up to 128: same answers */
	run_vectors(100, 0, v, ARRAY_SIZE(v));
}

TEST(window_1024)
{
	static const struct rvec v[] = {
		/*  1 */ { UPD, 0, true },
		/*  2 */ { UPD, 1023, true },
		/*  3 */ { CHK, 0, false },
		/*  4 */ { CHK, 1, true },
		/*  5 */ { CHK, 512, true },
		/*  6 */ { UPD, 1024, true },
		/*  7 */ { CHK, 0, false },
		/*  8 */ { CHK, 1, true },
		/*  9 */ { UPD, 3000, true },	/* far jump */
		/* 10 */ { CHK, 1976, false },
		/* 11 */ { CHK, 1977, true },
		/* 12 */ { CHK, 2047, true },	/* bit of 1023 cleared */
		/* 13 */ { CHK, 2048, true },	/* bit of 1024 cleared */
		/* 14 */ { UPD, 2500, true },
		/* 15 */ { UPD, 2500, false },
		/* 16 */ { UPD, 3500, true },	/* partial slide */
		/* 17 */ { CHK, 2500, false },	/* 3500 - 2500 = 1000, seen */
		/* 18 */ { CHK, 2476, false },	/* too old */
		/* 19 */ { CHK, 3001, true },
		/* 20 */ { CHK, 3000, false },
	};

	run_vectors(1024, 0, v, ARRAY_SIZE(v));
}

/*
 * check() runs before decryption, update() after: two readers that both
 * passed check() for the same record race to update(); only one may win.
 */
TEST(update_after_check_race)
{
	struct kdtls_replay r;
	int i;

	kdtls_replay_init(&r, 64, 0);
	ASSERT_TRUE(kdtls_replay_check(&r, 5000));
	ASSERT_TRUE(kdtls_replay_check(&r, 5000));	/* second reader */
	ASSERT_TRUE(kdtls_replay_update(&r, 5000));
	ASSERT_FALSE(kdtls_replay_update(&r, 5000));

	/* the window moved past it between check and update */
	ASSERT_TRUE(kdtls_replay_check(&r, 4990));
	ASSERT_TRUE(kdtls_replay_update(&r, 6000));
	ASSERT_FALSE(kdtls_replay_update(&r, 4990));

	/* check() never changes the window */
	for (i = 0; i < 10; i++)
		ASSERT_TRUE(kdtls_replay_check(&r, 100000));
	ASSERT_TRUE(kdtls_replay_check(&r, 5999));
	ASSERT_FALSE(kdtls_replay_check(&r, 5936));
}

/* a forged record (check passed, tag failed: no update) cannot move the window */
TEST(forged_record_does_not_move_window)
{
	struct kdtls_replay r;

	kdtls_replay_init(&r, 64, 0);
	ASSERT_TRUE(kdtls_replay_update(&r, 10));
	ASSERT_TRUE(kdtls_replay_check(&r, 1000000));	/* forged, dropped */
	ASSERT_TRUE(kdtls_replay_check(&r, 9));
	ASSERT_TRUE(kdtls_replay_update(&r, 9));
}

/* ---- randomized comparison with a model ---- */

static u64 xs_state = 0x9e3779b97f4a7c15ULL;

static u64 xs(void)
{
	xs_state ^= xs_state << 13;
	xs_state ^= xs_state >> 7;
	xs_state ^= xs_state << 17;
	return xs_state;
}

#define MODEL_MAX (1u << 22)

static bool model_ok(const bool *seen, bool any, u64 top, u64 floor, u32 size,
		     u64 seq)
{
	if (seq < floor)
		return false;
	if (any && seq <= top && top - seq >= size)
		return false;
	return !seen[seq];
}

TEST(random_against_model)
{
	static const u32 windows[] = { 64, 128, 192, 1024 };
	static bool seen[MODEL_MAX];
	size_t w;

	for (w = 0; w < ARRAY_SIZE(windows); w++) {
		struct kdtls_replay r;
		u64 floor = xs() % 50, top = 0, seq;
		bool any = false;
		int i;

		memset(seen, 0, sizeof(seen));
		kdtls_replay_init(&r, windows[w], floor);
		for (i = 0; i < 200000; i++) {
			bool want, got;

			/* mostly around the top, sometimes far ahead/behind */
			switch (xs() % 16) {
			case 0:
				seq = top + windows[w] + xs() % (2 * windows[w]);
				break;
			case 1:
				seq = xs() % (top + 1);
				break;
			default:
				seq = top + windows[w] / 4 - xs() % (2 * windows[w]);
				break;
			}
			if (seq >= MODEL_MAX)	/* wrapped below zero */
				seq = xs() % 64;
			want = model_ok(seen, any, top, floor, r.size, seq);
			if (xs() % 2) {
				got = kdtls_replay_check(&r, seq);
			} else {
				got = kdtls_replay_update(&r, seq);
				if (want) {
					seen[seq] = true;
					if (!any || seq > top)
						top = seq;
					any = true;
				}
			}
			if (got != want) {
				TH_LOG("window %u step %d seq %llu top %llu: got %d want %d",
				       windows[w], i, (unsigned long long)seq,
				       (unsigned long long)top, got, want);
				ASSERT_EQ(got, want);
			}
			/* keep the model's range bounded */
			if (top > MODEL_MAX - 8 * windows[w])
				break;
		}
	}
}

TEST_HARNESS_MAIN
