/* AIMD rate control from client feedback; see rate-control.h.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib.h>

#include "rate-control.h"

#define DECREASE_FACTOR 0.85
#define INCREASE_SHARE_PER_S 0.05
#define FPS_INCREASE_SHARE_PER_S 0.10
#define MIN_DECREASE_GAP_US 50000u
#define MIN_RTT_SLACK_US 2000u

void
ssb_rate_control_init(struct ssb_rate_control *rc, uint32_t min_kbps, uint32_t max_kbps,
                      uint32_t max_fps, uint64_t now_us)
{
    *rc = (struct ssb_rate_control){
        .min_kbps = MAX(1u, MIN(min_kbps, max_kbps)),
        .max_kbps = MAX(1u, max_kbps),
        .max_fps = MAX(1u, max_fps),
        .rtt_min_prev = UINT64_MAX,
        .rtt_min_cur = UINT64_MAX,
        .rtt_window_start_us = now_us,
        .last_increase_us = now_us,
    };
    rc->kbps = rc->max_kbps;
    rc->fps = rc->max_fps;
}

/* Minimum RTT over the last 5..10 s. */
static uint64_t
rtt_min_update(struct ssb_rate_control *rc, uint64_t rtt_us, uint64_t now_us)
{
    if (now_us - rc->rtt_window_start_us >= SSB_RATE_RTT_WINDOW_US / 2) {
        rc->rtt_min_prev = rc->rtt_min_cur;
        rc->rtt_min_cur = UINT64_MAX;
        rc->rtt_window_start_us = now_us;
    }
    rc->rtt_min_cur = MIN(rc->rtt_min_cur, rtt_us);
    return MIN(rc->rtt_min_prev, rc->rtt_min_cur);
}

static bool
is_behind(struct ssb_rate_control *rc, const struct ssb_rate_sample *s, uint64_t now_us)
{
    uint64_t interval_us = (uint64_t)(1e6 / rc->fps);
    uint64_t rtt_min = rtt_min_update(rc, s->rtt_us, now_us);

    return s->bad_outcome || s->queue_backlog || s->frames_in_flight > 1 ||
           s->decode_us > interval_us ||
           s->rtt_us > rtt_min + MAX(interval_us, (uint64_t)MIN_RTT_SLACK_US);
}

/* The client cannot decode at this rate: fewer bits will not help much,
 * fewer frames will. */
static bool
decode_bound(const struct ssb_rate_control *rc, const struct ssb_rate_sample *s)
{
    return s->frames_in_flight > 1 || s->decode_us > (uint64_t)(1e6 / rc->fps);
}

static bool
decrease(struct ssb_rate_control *rc, const struct ssb_rate_sample *s, uint64_t now_us)
{
    uint64_t gap = MAX(rc->last_rtt_us, (uint64_t)MIN_DECREASE_GAP_US);
    double min_fps = MIN(SSB_RATE_MIN_FPS, rc->max_fps);
    bool changed = false;

    if (rc->last_decrease_us && now_us - rc->last_decrease_us < gap)
        return false;
    rc->last_decrease_us = now_us;
    rc->last_increase_us = now_us;
    if (rc->kbps > rc->min_kbps) {
        rc->kbps = MAX(rc->min_kbps, rc->kbps * DECREASE_FACTOR);
        changed = true;
    }
    if ((!changed || decode_bound(rc, s)) && rc->fps > min_fps) {
        rc->fps = MAX(min_fps, rc->fps * DECREASE_FACTOR);
        changed = true;
    }
    rc->decreases += changed;
    return changed;
}

static bool
increase(struct ssb_rate_control *rc, uint64_t now_us)
{
    double seconds = (double)(now_us - rc->last_increase_us) / 1e6;

    rc->last_increase_us = now_us;
    if (rc->fps < rc->max_fps) {
        rc->fps = MIN((double)rc->max_fps,
                      rc->fps + FPS_INCREASE_SHARE_PER_S * rc->max_fps * seconds);
    } else if (rc->kbps < rc->max_kbps) {
        rc->kbps = MIN((double)rc->max_kbps,
                       rc->kbps + INCREASE_SHARE_PER_S * rc->max_kbps * seconds);
    } else {
        return false;
    }
    rc->increases++;
    return true;
}

bool
ssb_rate_control_feedback(struct ssb_rate_control *rc, const struct ssb_rate_sample *s,
                          uint64_t now_us)
{
    uint32_t kbps = ssb_rate_control_kbps(rc), fps = ssb_rate_control_fps(rc);
    bool behind = is_behind(rc, s, now_us);

    rc->last_rtt_us = s->rtt_us;
    if (behind)
        decrease(rc, s, now_us);
    else
        increase(rc, now_us);
    return kbps != ssb_rate_control_kbps(rc) || fps != ssb_rate_control_fps(rc);
}

uint32_t
ssb_rate_control_kbps(const struct ssb_rate_control *rc)
{
    return (uint32_t)(rc->kbps + 0.5);
}

uint32_t
ssb_rate_control_fps(const struct ssb_rate_control *rc)
{
    return (uint32_t)(rc->fps + 0.5);
}
