/* Rate control (server/rate-control.c) with synthetic feedback: goes down
 * when the client is behind, bitrate first then frame rate, never below
 * the bounds, and recovers when the client keeps up.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib.h>

#include "rate-control.h"

#define MS 1000u

/* Feeds one sample every 16.7 ms for @seconds. */
static void
feed(struct ssb_rate_control *rc, uint64_t *now, double seconds, const struct ssb_rate_sample *s)
{
    for (uint64_t end = *now + (uint64_t)(seconds * 1e6); *now < end; *now += 16667)
        ssb_rate_control_feedback(rc, s, *now);
}

static void
test_steady(void)
{
    struct ssb_rate_control rc;
    struct ssb_rate_sample good = { .rtt_us = 2 * MS, .decode_us = 3 * MS, .frames_in_flight = 0 };
    uint64_t now = 1000000;

    ssb_rate_control_init(&rc, 300, 8000, 60, now);
    feed(&rc, &now, 5, &good);
    g_assert_cmpuint(ssb_rate_control_kbps(&rc), ==, 8000);
    g_assert_cmpuint(ssb_rate_control_fps(&rc), ==, 60);
    g_assert_cmpuint(rc.decreases, ==, 0);
}

static void
test_down_and_up(void)
{
    struct ssb_rate_control rc;
    struct ssb_rate_sample good = { .rtt_us = 2 * MS, .decode_us = 3 * MS };
    struct ssb_rate_sample slow_rtt = { .rtt_us = 60 * MS, .decode_us = 3 * MS };
    uint64_t now = 1000000;
    uint32_t kbps;

    ssb_rate_control_init(&rc, 300, 8000, 60, now);
    feed(&rc, &now, 2, &good);   /* learns the minimum RTT */
    /* RTT far above its minimum: multiplicative decrease, at most once per
     * RTT (60 ms): about 0.85^16 after 1 s. */
    feed(&rc, &now, 1, &slow_rtt);
    kbps = ssb_rate_control_kbps(&rc);
    g_assert_cmpuint(kbps, <, 8000 / 3);
    g_assert_cmpuint(kbps, >=, 300);
    g_assert_cmpuint(ssb_rate_control_fps(&rc), ==, 60); /* bitrate first */
    /* Keeping up: +5% of the maximum per second. */
    feed(&rc, &now, 4, &good);
    g_assert_cmpuint(ssb_rate_control_kbps(&rc), >, kbps + 1400);
    feed(&rc, &now, 20, &good);
    g_assert_cmpuint(ssb_rate_control_kbps(&rc), ==, 8000);
}

static void
test_floor_then_fps(void)
{
    struct ssb_rate_control rc;
    struct ssb_rate_sample behind = { .rtt_us = 2 * MS, .frames_in_flight = 4 };
    struct ssb_rate_sample good = { .rtt_us = 2 * MS };
    uint64_t now = 1000000;

    ssb_rate_control_init(&rc, 500, 4000, 60, now);
    /* Decode-bound (frames pile up at the client): both go down at once. */
    feed(&rc, &now, 0.2, &behind);
    g_assert_cmpuint(ssb_rate_control_kbps(&rc), <, 4000);
    g_assert_cmpuint(ssb_rate_control_fps(&rc), <, 60);
    feed(&rc, &now, 10, &behind);
    g_assert_cmpuint(ssb_rate_control_kbps(&rc), ==, 500);
    g_assert_cmpuint(ssb_rate_control_fps(&rc), ==, SSB_RATE_MIN_FPS);
    /* Recovery: the frame rate comes back first (10% of 60 fps per s). */
    feed(&rc, &now, 5, &good);
    g_assert_cmpuint(ssb_rate_control_fps(&rc), >, 30);
    g_assert_cmpuint(ssb_rate_control_kbps(&rc), ==, 500);
    feed(&rc, &now, 30, &good);
    g_assert_cmpuint(ssb_rate_control_fps(&rc), ==, 60);
    g_assert_cmpuint(ssb_rate_control_kbps(&rc), >, 500);
    feed(&rc, &now, 30, &good);
    g_assert_cmpuint(ssb_rate_control_kbps(&rc), ==, 4000);
}

static void
test_outcomes(void)
{
    struct ssb_rate_control rc;
    struct ssb_rate_sample dropped = { .rtt_us = 2 * MS, .bad_outcome = true };
    struct ssb_rate_sample decode_slow = { .rtt_us = 2 * MS, .decode_us = 40 * MS };
    struct ssb_rate_sample backlog = { .rtt_us = 2 * MS, .queue_backlog = true };
    uint64_t now = 1000000;

    ssb_rate_control_init(&rc, 100, 10000, 30, now);
    g_assert_true(ssb_rate_control_feedback(&rc, &dropped, now));
    g_assert_cmpuint(ssb_rate_control_kbps(&rc), ==, 8500);
    /* At most one decrease per RTT (floored at 50 ms). */
    g_assert_false(ssb_rate_control_feedback(&rc, &dropped, now + 10 * MS));
    g_assert_true(ssb_rate_control_feedback(&rc, &decode_slow, now + 60 * MS));
    g_assert_true(ssb_rate_control_feedback(&rc, &backlog, now + 120 * MS));
    g_assert_cmpuint(ssb_rate_control_kbps(&rc), ==, (uint32_t)(10000 * 0.85 * 0.85 * 0.85 + 0.5));
    /* Slow decoding took the frame rate down too; the others did not. */
    g_assert_cmpuint(ssb_rate_control_fps(&rc), ==, (uint32_t)(30 * 0.85 + 0.5));
}

static void
test_rtt_window(void)
{
    struct ssb_rate_control rc;
    struct ssb_rate_sample base = { .rtt_us = 40 * MS };
    uint64_t now = 1000000;

    /* A path whose RTT is 40 ms all along is not "behind". */
    ssb_rate_control_init(&rc, 300, 8000, 60, now);
    feed(&rc, &now, 30, &base);
    g_assert_cmpuint(rc.decreases, ==, 0);
    g_assert_cmpuint(ssb_rate_control_kbps(&rc), ==, 8000);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/server/rate-control/steady", test_steady);
    g_test_add_func("/server/rate-control/down-and-up", test_down_and_up);
    g_test_add_func("/server/rate-control/floor-then-fps", test_floor_then_fps);
    g_test_add_func("/server/rate-control/outcomes", test_outcomes);
    g_test_add_func("/server/rate-control/rtt-window", test_rtt_window);
    return g_test_run();
}
