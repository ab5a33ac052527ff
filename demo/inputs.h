/* The demo VMM's input devices: a PS/2-like keyboard, a tablet and a
 * built-in agent on the "vdagent" char device.
 *
 * Why an agent: spice-server 0.15.1 passes SPICE_MSGC_INPUTS_MOUSE_POSITION
 * to a SpiceTabletInterface as (x, y, buttons) only, dropping the message's
 * display_id, and it allows client (absolute) mouse mode with a tablet only
 * when there is exactly one QXL instance.  With an agent attached it allows
 * client mode for any number of displays and forwards every position as a
 * VDAgentMouseState {x, y, buttons, display_id} to the agent's char device.
 * QEMU's "qemu-vdagent" chardev (mouse=on) uses the same route for
 * multi-head absolute input; the demo parses those messages itself.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef DEMO_INPUTS_H
#define DEMO_INPUTS_H

#include <stdbool.h>
#include <stdint.h>

#include <spice.h>

#include "event-log.h"

/* Called on the main loop for every input event; @event is borrowed. */
typedef void (*demo_input_fn)(const struct demo_event *event, void *user_data);

struct demo_inputs;

/* Registers keyboard, tablet and (if @agent) the agent char device on
 * @spice (borrowed).  @n_displays is the number of QXL instances; a tablet
 * event is attributed to display 0 when there is only one, else to -1.
 * Sets *@ok to false when spice-server refused an interface; the result
 * must still be destroyed after spice_server_destroy(). */
struct demo_inputs *demo_inputs_create(SpiceServer *spice, uint32_t n_displays, bool agent,
                                       demo_input_fn fn, void *user_data, bool *ok);
/* Frees @inputs; call after spice_server_destroy() (spice-server 0.15.1
 * cannot remove a keyboard, and it calls into the devices until then).
 * Accepts NULL. */
void demo_inputs_destroy(struct demo_inputs *inputs);

#endif /* DEMO_INPUTS_H */
