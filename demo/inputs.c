/* Keyboard, tablet and agent for the demo VMM: see inputs.h.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "inputs.h"

#include <glib.h>
#include <spice/vd_agent.h>
#include <string.h>

/* Largest agent message we reassemble; the demo announces no capability
 * (clipboard, file transfer) that would bring bigger ones. */
#define AGENT_MAX_MESSAGE (64 * 1024)

struct agent_port {
    GByteArray *buf;        /* reassembled message bytes */
    uint64_t skip;          /* bytes of an oversized message still to drop */
};

struct demo_inputs {
    SpiceServer *spice;
    uint32_t n_displays;
    demo_input_fn fn;
    void *user_data;

    SpiceKbdInstance kbd;
    uint8_t leds;
    bool kbd_extended;      /* an 0xe0 prefix came */

    SpiceTabletInstance tablet;
    int tablet_x, tablet_y;
    uint32_t tablet_buttons;

    SpiceCharDeviceInstance agent;
    uint8_t chunk_header[sizeof(VDIChunkHeader)];
    uint32_t chunk_header_len;
    uint32_t chunk_port, chunk_left;
    struct agent_port ports[VDP_END_PORT];
    GByteArray *agent_out;  /* bytes for spice-server to read() */
    struct { int x, y, display; uint32_t buttons; } agent_mouse;
};

static void
emit(struct demo_inputs *inputs, struct demo_event *ev)
{
    ev->t_us = (uint64_t)g_get_monotonic_time();
    inputs->fn(ev, inputs->user_data);
}

/* ---- keyboard ------------------------------------------------------------ */

static void
kbd_push_scan(SpiceKbdInstance *sin, uint8_t frag)
{
    struct demo_inputs *inputs = SPICE_CONTAINEROF(sin, struct demo_inputs, kbd);

    if (frag == 0xe0) {
        inputs->kbd_extended = true;
        return;
    }
    struct demo_event ev = {
        .type = DEMO_EVENT_KEY,
        .display = -1,
        .source = "keyboard",
        .scancode = (inputs->kbd_extended ? 0xe000u : 0u) | (frag & 0x7fu),
        .down = !(frag & 0x80),
    };
    inputs->kbd_extended = false;
    emit(inputs, &ev);
}

static uint8_t
kbd_get_leds(SpiceKbdInstance *sin)
{
    return SPICE_CONTAINEROF(sin, struct demo_inputs, kbd)->leds;
}

static const SpiceKbdInterface kbd_interface = {
    .base = {
        .type = SPICE_INTERFACE_KEYBOARD,
        .description = "spice-sideband-demo keyboard",
        .major_version = SPICE_INTERFACE_KEYBOARD_MAJOR,
        .minor_version = SPICE_INTERFACE_KEYBOARD_MINOR,
    },
    .push_scan_freg = kbd_push_scan,
    .get_leds = kbd_get_leds,
};

/* ---- tablet -------------------------------------------------------------- */

/* spice-server hands the tablet "local" masks: left 1, right 2, middle 4. */
static uint32_t
buttons_from_local(uint32_t state)
{
    return (state & 1 ? DEMO_BUTTON_LEFT : 0) | (state & 2 ? DEMO_BUTTON_RIGHT : 0) |
           (state & 4 ? DEMO_BUTTON_MIDDLE : 0);
}

static void
tablet_event(struct demo_inputs *inputs, enum demo_event_type type, int wheel)
{
    struct demo_event ev = {
        .type = type,
        /* The tablet never learns the display; with one QXL it is 0. */
        .display = inputs->n_displays == 1 ? 0 : -1,
        .source = "tablet",
        .x = inputs->tablet_x,
        .y = inputs->tablet_y,
        .buttons = inputs->tablet_buttons,
        .wheel = wheel,
    };
    emit(inputs, &ev);
}

static void
tablet_set_logical_size(SpiceTabletInstance *sin, int width, int height)
{
    g_debug("tablet logical size %dx%d", width, height);
}

static void
tablet_position(SpiceTabletInstance *sin, int x, int y, uint32_t buttons_state)
{
    struct demo_inputs *inputs = SPICE_CONTAINEROF(sin, struct demo_inputs, tablet);
    uint32_t buttons = buttons_from_local(buttons_state);
    bool moved = x != inputs->tablet_x || y != inputs->tablet_y;
    bool pressed = buttons != inputs->tablet_buttons;

    inputs->tablet_x = x;
    inputs->tablet_y = y;
    inputs->tablet_buttons = buttons;
    if (moved || !pressed)
        tablet_event(inputs, DEMO_EVENT_MOTION, 0);
    if (pressed)
        tablet_event(inputs, DEMO_EVENT_BUTTON, 0);
}

/* In client mouse mode spice-server reports every press through wheel()
 * (dz 0 for a plain button) and every release through buttons(). */
static void
tablet_wheel(SpiceTabletInstance *sin, int wheel, uint32_t buttons_state)
{
    struct demo_inputs *inputs = SPICE_CONTAINEROF(sin, struct demo_inputs, tablet);
    uint32_t buttons = buttons_from_local(buttons_state);
    bool pressed = buttons != inputs->tablet_buttons;

    inputs->tablet_buttons = buttons;
    if (pressed)
        tablet_event(inputs, DEMO_EVENT_BUTTON, 0);
    if (wheel)
        tablet_event(inputs, DEMO_EVENT_WHEEL, wheel);
}

static void
tablet_buttons(SpiceTabletInstance *sin, uint32_t buttons_state)
{
    struct demo_inputs *inputs = SPICE_CONTAINEROF(sin, struct demo_inputs, tablet);
    uint32_t buttons = buttons_from_local(buttons_state);

    if (buttons == inputs->tablet_buttons)
        return;
    inputs->tablet_buttons = buttons;
    tablet_event(inputs, DEMO_EVENT_BUTTON, 0);
}

static const SpiceTabletInterface tablet_interface = {
    .base = {
        .type = SPICE_INTERFACE_TABLET,
        .description = "spice-sideband-demo tablet",
        .major_version = SPICE_INTERFACE_TABLET_MAJOR,
        .minor_version = SPICE_INTERFACE_TABLET_MINOR,
    },
    .set_logical_size = tablet_set_logical_size,
    .position = tablet_position,
    .wheel = tablet_wheel,
    .buttons = tablet_buttons,
};

/* ---- agent --------------------------------------------------------------- */

static void
agent_queue_message(struct demo_inputs *inputs, uint32_t port, uint32_t type,
                    const void *data, uint32_t size)
{
    VDIChunkHeader chunk = { .port = port, .size = (uint32_t)sizeof(VDAgentMessage) + size };
    VDAgentMessage msg = { .protocol = VD_AGENT_PROTOCOL, .type = type, .size = size };

    g_byte_array_append(inputs->agent_out, (const guint8 *)&chunk, sizeof(chunk));
    g_byte_array_append(inputs->agent_out, (const guint8 *)&msg, sizeof(msg));
    g_byte_array_append(inputs->agent_out, data, size);
    spice_server_char_device_wakeup(&inputs->agent);
}

static void
agent_announce_capabilities(struct demo_inputs *inputs)
{
    uint32_t caps[1 + VD_AGENT_CAPS_SIZE] = { 0 };   /* request, then the bits */

    caps[1] = 1u << VD_AGENT_CAP_MOUSE_STATE;
    agent_queue_message(inputs, VDP_CLIENT_PORT, VD_AGENT_ANNOUNCE_CAPABILITIES, caps,
                        sizeof(caps));
}

static uint32_t
buttons_from_agent(uint32_t state)
{
    return (state & VD_AGENT_LBUTTON_MASK ? DEMO_BUTTON_LEFT : 0) |
           (state & VD_AGENT_MBUTTON_MASK ? DEMO_BUTTON_MIDDLE : 0) |
           (state & VD_AGENT_RBUTTON_MASK ? DEMO_BUTTON_RIGHT : 0);
}

static void
agent_mouse_state(struct demo_inputs *inputs, const VDAgentMouseState *state)
{
    uint32_t buttons = buttons_from_agent(state->buttons);
    int wheel = state->buttons & VD_AGENT_UBUTTON_MASK ? -1 :
                state->buttons & VD_AGENT_DBUTTON_MASK ? 1 : 0;
    bool moved = (int)state->x != inputs->agent_mouse.x ||
                 (int)state->y != inputs->agent_mouse.y ||
                 state->display_id != inputs->agent_mouse.display;
    bool pressed = buttons != inputs->agent_mouse.buttons;
    struct demo_event ev = {
        .display = state->display_id,
        .source = "agent",
        .x = (int)state->x,
        .y = (int)state->y,
        .buttons = buttons,
        .wheel = wheel,
    };

    inputs->agent_mouse.x = ev.x;
    inputs->agent_mouse.y = ev.y;
    inputs->agent_mouse.display = ev.display;
    inputs->agent_mouse.buttons = buttons;
    if (moved) {
        ev.type = DEMO_EVENT_MOTION;
        emit(inputs, &ev);
    }
    if (pressed) {
        ev.type = DEMO_EVENT_BUTTON;
        emit(inputs, &ev);
    }
    if (wheel) {
        ev.type = DEMO_EVENT_WHEEL;
        emit(inputs, &ev);
    }
}

static void
agent_message(struct demo_inputs *inputs, uint32_t port, const VDAgentMessage *msg,
              const uint8_t *data)
{
    if (msg->protocol != VD_AGENT_PROTOCOL)
        return;
    if (port == VDP_SERVER_PORT && msg->type == VD_AGENT_MOUSE_STATE &&
        msg->size >= sizeof(VDAgentMouseState)) {
        VDAgentMouseState state;

        memcpy(&state, data, sizeof(state));
        agent_mouse_state(inputs, &state);
    } else if (port == VDP_CLIENT_PORT && msg->type == VD_AGENT_ANNOUNCE_CAPABILITIES &&
               msg->size >= sizeof(uint32_t)) {
        uint32_t request;

        memcpy(&request, data, sizeof(request));
        if (request)
            agent_announce_capabilities(inputs);
    }
}

/* Chunk payload for @port: reassemble messages, drop oversized ones. */
static void
agent_port_data(struct demo_inputs *inputs, uint32_t port, const uint8_t *data, uint32_t len)
{
    struct agent_port *p = &inputs->ports[port];

    while (len > 0) {
        if (p->skip) {
            uint32_t n = p->skip < len ? (uint32_t)p->skip : len;
            p->skip -= n;
            data += n;
            len -= n;
            continue;
        }
        g_byte_array_append(p->buf, data, len);
        len = 0;
        while (p->buf->len >= sizeof(VDAgentMessage)) {
            VDAgentMessage msg;

            memcpy(&msg, p->buf->data, sizeof(msg));
            uint64_t total = sizeof(msg) + (uint64_t)msg.size;
            if (total > AGENT_MAX_MESSAGE) {
                g_message("agent: dropping a %" G_GUINT64_FORMAT "-byte message (type %u)",
                          total, msg.type);
                p->skip = total - p->buf->len;
                g_byte_array_set_size(p->buf, 0);
                break;
            }
            if (p->buf->len < total)
                break;
            agent_message(inputs, port, &msg, p->buf->data + sizeof(msg));
            g_byte_array_remove_range(p->buf, 0, (guint)total);
        }
    }
}

/* spice-server writes a stream of VDIChunkHeader + payload. */
static int
agent_write(SpiceCharDeviceInstance *sin, const uint8_t *buf, int len)
{
    struct demo_inputs *inputs = SPICE_CONTAINEROF(sin, struct demo_inputs, agent);
    uint32_t left = len > 0 ? (uint32_t)len : 0;

    while (left > 0) {
        if (inputs->chunk_left == 0) {
            uint32_t n = MIN(left, (uint32_t)sizeof(VDIChunkHeader) - inputs->chunk_header_len);
            VDIChunkHeader chunk;

            memcpy(inputs->chunk_header + inputs->chunk_header_len, buf, n);
            inputs->chunk_header_len += n;
            buf += n;
            left -= n;
            if (inputs->chunk_header_len < sizeof(VDIChunkHeader))
                break;
            inputs->chunk_header_len = 0;
            memcpy(&chunk, inputs->chunk_header, sizeof(chunk));
            inputs->chunk_port = chunk.port;
            inputs->chunk_left = chunk.size;
            continue;
        }
        uint32_t n = MIN(left, inputs->chunk_left);
        if (inputs->chunk_port == VDP_CLIENT_PORT || inputs->chunk_port == VDP_SERVER_PORT)
            agent_port_data(inputs, inputs->chunk_port, buf, n);
        buf += n;
        left -= n;
        inputs->chunk_left -= n;
    }
    return len;
}

static int
agent_read(SpiceCharDeviceInstance *sin, uint8_t *buf, int len)
{
    struct demo_inputs *inputs = SPICE_CONTAINEROF(sin, struct demo_inputs, agent);
    guint n = MIN((guint)MAX(len, 0), inputs->agent_out->len);

    if (n == 0)
        return 0;
    memcpy(buf, inputs->agent_out->data, n);
    g_byte_array_remove_range(inputs->agent_out, 0, n);
    return (int)n;
}

static void
agent_state(SpiceCharDeviceInstance *sin, int connected)
{
    g_debug("agent device %s", connected ? "opened" : "closed");
}

static const SpiceCharDeviceInterface agent_interface = {
    .base = {
        .type = SPICE_INTERFACE_CHAR_DEVICE,
        .description = "spice-sideband-demo agent",
        .major_version = SPICE_INTERFACE_CHAR_DEVICE_MAJOR,
        .minor_version = SPICE_INTERFACE_CHAR_DEVICE_MINOR,
    },
    .state = agent_state,
    .write = agent_write,
    .read = agent_read,
};

/* ---- lifecycle ----------------------------------------------------------- */

struct demo_inputs *
demo_inputs_create(SpiceServer *spice, uint32_t n_displays, bool agent, demo_input_fn fn,
                   void *user_data, bool *ok)
{
    struct demo_inputs *inputs = g_new0(struct demo_inputs, 1);

    inputs->spice = spice;
    inputs->n_displays = n_displays;
    inputs->fn = fn;
    inputs->user_data = user_data;
    inputs->agent_mouse.display = -1;
    inputs->agent_out = g_byte_array_new();
    for (unsigned i = 0; i < G_N_ELEMENTS(inputs->ports); i++)
        inputs->ports[i].buf = g_byte_array_new();

    inputs->kbd.base.sif = &kbd_interface.base;
    inputs->tablet.base.sif = &tablet_interface.base;
    inputs->agent.base.sif = &agent_interface.base;
    inputs->agent.subtype = "vdagent";

    /* Interfaces stay registered until spice_server_destroy(): 0.15.1
     * cannot remove a keyboard. */
    if (spice_server_add_interface(spice, &inputs->kbd.base) != 0 ||
        spice_server_add_interface(spice, &inputs->tablet.base) != 0 ||
        (agent && spice_server_add_interface(spice, &inputs->agent.base) != 0)) {
        *ok = false;
        return inputs;   /* spice-server may hold parts of it */
    }
    *ok = true;
    return inputs;
}

void
demo_inputs_destroy(struct demo_inputs *inputs)
{
    if (!inputs)
        return;
    for (unsigned i = 0; i < G_N_ELEMENTS(inputs->ports); i++)
        g_byte_array_unref(inputs->ports[i].buf);
    g_byte_array_unref(inputs->agent_out);
    g_free(inputs);
}
