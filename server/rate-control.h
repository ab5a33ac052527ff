/* Rate control for one remote client of one scanout (spec 5.3).
 *
 * AIMD on two knobs, bitrate first, then frame rate:
 *
 *  - "behind" when one sample shows any of: RTT above the minimum RTT of
 *    the last 10 s by more than one frame interval (and at least 2 ms),
 *    more than one frame in flight at the client, client decode time
 *    above the frame interval, a DROPPED or DECODE_ERROR outcome, or our
 *    own queue to the client holding an unsent frame.
 *  - behind: multiplicative decrease by 15%, at most once per RTT (and at
 *    most every 50 ms): the bitrate while above its minimum, then the
 *    frame rate (down to SSB_RATE_MIN_FPS).  When the client cannot
 *    decode at this rate (frames in flight, decode time above the frame
 *    interval) both go down together: fewer bits alone would not help.
 *  - keeping up: additive increase per second of 10% of the maximum frame
 *    rate until it is back, then of 5% of the maximum bitrate; counted
 *    from the last decrease.
 *
 * Pure arithmetic on a caller-supplied clock: unit-tested with synthetic
 * feedback (tests/server/test-rate-control.c).
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SSB_RATE_CONTROL_H
#define SSB_RATE_CONTROL_H

#include <stdbool.h>
#include <stdint.h>

#define SSB_RATE_MIN_FPS 5u
#define SSB_RATE_RTT_WINDOW_US (10u * 1000000u)

struct ssb_rate_sample {
    uint64_t rtt_us;             /* now - t_encoded_us - held_us */
    uint32_t decode_us;          /* receive_to_decoded_us */
    uint32_t frames_in_flight;
    bool bad_outcome;            /* DROPPED or DECODE_ERROR */
    bool queue_backlog;          /* our queue to the client holds a frame */
};

struct ssb_rate_control {
    uint32_t min_kbps, max_kbps, max_fps;
    double kbps, fps;            /* current targets */
    /* Minimum RTT over two half windows: [prev, cur). */
    uint64_t rtt_min_prev, rtt_min_cur, rtt_window_start_us;
    uint64_t last_rtt_us;
    uint64_t last_decrease_us, last_increase_us;
    uint64_t decreases, increases;
};

/* Starts at the maximum bitrate and frame rate. */
void ssb_rate_control_init(struct ssb_rate_control *rc, uint32_t min_kbps, uint32_t max_kbps,
                           uint32_t max_fps, uint64_t now_us);
/* Feeds one FEEDBACK.  Returns true when a target changed. */
bool ssb_rate_control_feedback(struct ssb_rate_control *rc, const struct ssb_rate_sample *s,
                               uint64_t now_us);
uint32_t ssb_rate_control_kbps(const struct ssb_rate_control *rc);
uint32_t ssb_rate_control_fps(const struct ssb_rate_control *rc);

#endif /* SSB_RATE_CONTROL_H */
