/* Keyboard and pointer input of SsbDisplay, sent through the session's
 * standard SpiceInputsChannel with the scanout's display channel id, the
 * way spice-gtk's SpiceDisplay does it:
 * - client mouse mode: absolute positions scaled from the letterboxed
 *   picture to scanout coordinates; server mouse mode: relative motion;
 * - buttons as SPICE_MOUSE_BUTTON_*, the wheel as button 4/5 press+release;
 * - keys as PC AT set-1 scancodes from the evdev key code (keymap.c), sent
 *   only while the widget has the focus or holds the keyboard grab.  A click
 *   grabs the keyboard, Ctrl+Alt releases it; losing the focus releases
 *   every key still down in the guest.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "display-private.h"

#include <math.h>
#include <string.h>

#ifdef GDK_WINDOWING_X11
#include <gdk/gdkx.h>
#endif
#ifdef GDK_WINDOWING_WAYLAND
#include <gdk/gdkwayland.h>
#endif

/* Key state: index = scancode (0..0xff) or 0x100 | XX for 0xe0XX. */
#define KEY_STATE_BITS 0x200

struct SsbInput {
    SsbDisplay *display;          /* borrowed: owns us */
    SpiceSession *session;        /* borrowed: the display holds it */
    SpiceInputsChannel *inputs;   /* owned ref, NULL until announced */
    SpiceMainChannel *main;       /* owned ref */
    int display_id;               /* -1: unknown yet, send nothing */
    int button_state;             /* SPICE_MOUSE_BUTTON_MASK_* */
    gboolean grabbed;
    gboolean have_last;
    int last_x, last_y;           /* last scanout position (relative mode) */
    double scroll_dy;             /* smooth scroll remainder */
    guint32 keys[KEY_STATE_BITS / 32];
    gulong channel_new_id, channel_destroy_id;
};

static void
track_channel(SsbInput *input, SpiceChannel *channel)
{
    if (SPICE_IS_INPUTS_CHANNEL(channel) && input->inputs == NULL)
        input->inputs = g_object_ref(SPICE_INPUTS_CHANNEL(channel));
    else if (SPICE_IS_MAIN_CHANNEL(channel) && input->main == NULL)
        input->main = g_object_ref(SPICE_MAIN_CHANNEL(channel));
}

static void
on_channel_new(SpiceSession *session, SpiceChannel *channel, SsbInput *input)
{
    track_channel(input, channel);
}

static void
on_channel_destroy(SpiceSession *session, SpiceChannel *channel, SsbInput *input)
{
    if ((SpiceChannel *)input->inputs == channel)
        g_clear_object(&input->inputs);
    if ((SpiceChannel *)input->main == channel)
        g_clear_object(&input->main);
}

static gboolean
client_mouse_mode(SsbInput *input)
{
    int mode = SPICE_MOUSE_MODE_CLIENT;

    if (input->main != NULL)
        g_object_get(input->main, "mouse-mode", &mode, NULL);
    return mode != SPICE_MOUSE_MODE_SERVER;
}

/* ------------------------------------------------------------- keyboard */

static gboolean
key_bit(SsbInput *input, guint index, gboolean set, gboolean value)
{
    guint32 mask = 1u << (index % 32);
    gboolean was = (input->keys[index / 32] & mask) != 0;

    if (set)
        input->keys[index / 32] = value ? input->keys[index / 32] | mask
                                        : input->keys[index / 32] & ~mask;
    return was;
}

static void
send_key(SsbInput *input, guint xt, gboolean down)
{
    guint code = ssb_keymap_xt_to_spice(xt);

    if (code >= KEY_STATE_BITS)
        return;
    if (!down && !key_bit(input, code, FALSE, FALSE))
        return; /* never pressed here */
    key_bit(input, code, TRUE, down);
    if (input->inputs == NULL)
        return;
    if (down)
        spice_inputs_channel_key_press(input->inputs, code);
    else
        spice_inputs_channel_key_release(input->inputs, code);
}

static void
release_all_keys(SsbInput *input)
{
    for (guint code = 0; code < KEY_STATE_BITS; code++) {
        if (!key_bit(input, code, TRUE, FALSE) || input->inputs == NULL)
            continue;
        spice_inputs_channel_key_release(input->inputs, code);
    }
}

/* Evdev code of a key event, where the backend's hardware keycodes are
 * evdev + 8 (X11 with the evdev/xkb rules, Wayland). */
static gboolean
event_evdev_code(GtkWidget *widget, const GdkEventKey *key, guint *evdev)
{
    GdkDisplay *gdk_display = gtk_widget_get_display(widget);
    gboolean evdev_based = FALSE;

#ifdef GDK_WINDOWING_X11
    evdev_based |= GDK_IS_X11_DISPLAY(gdk_display);
#endif
#ifdef GDK_WINDOWING_WAYLAND
    evdev_based |= GDK_IS_WAYLAND_DISPLAY(gdk_display);
#endif
    if (!evdev_based || key->hardware_keycode < 8)
        return FALSE;
    *evdev = key->hardware_keycode - 8u;
    return TRUE;
}

static gboolean
is_release_combo(const GdkEventKey *key)
{
    gboolean ctrl = key->keyval == GDK_KEY_Control_L || key->keyval == GDK_KEY_Control_R;
    gboolean alt = key->keyval == GDK_KEY_Alt_L || key->keyval == GDK_KEY_Alt_R ||
                   key->keyval == GDK_KEY_Meta_L || key->keyval == GDK_KEY_Meta_R;

    return (ctrl && (key->state & GDK_MOD1_MASK)) || (alt && (key->state & GDK_CONTROL_MASK));
}

static gboolean
on_key(GtkWidget *widget, GdkEventKey *key, SsbInput *input)
{
    gboolean down = key->type == GDK_KEY_PRESS;
    guint evdev, xt;

    if (!input->grabbed && !gtk_widget_has_focus(widget))
        return FALSE;
    if (down && input->grabbed && is_release_combo(key)) {
        ssb_input_ungrab(input);
        return TRUE;
    }
    if (!event_evdev_code(widget, key, &evdev) || (xt = ssb_keymap_evdev_to_xt(evdev)) == 0)
        return TRUE;
    send_key(input, xt, down);
    return TRUE;
}

static void
grab(SsbInput *input)
{
    GtkWidget *widget = GTK_WIDGET(input->display);
    GdkWindow *window = gtk_widget_get_window(widget);
    GdkSeat *seat = gdk_display_get_default_seat(gtk_widget_get_display(widget));

    if (input->grabbed || window == NULL || seat == NULL)
        return;
    if (gdk_seat_grab(seat, window, GDK_SEAT_CAPABILITY_KEYBOARD, FALSE, NULL, NULL, NULL,
                      NULL) != GDK_GRAB_SUCCESS)
        return;
    input->grabbed = TRUE;
    ssb_display_notify_grab(input->display);
}

void
ssb_input_ungrab(SsbInput *input)
{
    GtkWidget *widget;

    if (input == NULL || !input->grabbed)
        return;
    widget = GTK_WIDGET(input->display);
    gdk_seat_ungrab(gdk_display_get_default_seat(gtk_widget_get_display(widget)));
    input->grabbed = FALSE;
    /* the guest saw Ctrl and Alt go down: let them (and anything else) up */
    release_all_keys(input);
    ssb_display_notify_grab(input->display);
}

gboolean
ssb_input_get_grabbed(SsbInput *input)
{
    return input->grabbed;
}

static gboolean
on_focus_in(GtkWidget *widget, GdkEventFocus *event, SsbInput *input)
{
    int x, y;
    GdkWindow *window = gtk_widget_get_window(widget);
    GdkSeat *seat = gdk_display_get_default_seat(gtk_widget_get_display(widget));

    /* remote-viewer grabs the keyboard when focused with the pointer inside */
    if (window != NULL && seat != NULL) {
        gdk_window_get_device_position(window, gdk_seat_get_pointer(seat), &x, &y, NULL);
        if (x >= 0 && y >= 0 && x < gtk_widget_get_allocated_width(widget) &&
            y < gtk_widget_get_allocated_height(widget))
            grab(input);
    }
    return FALSE;
}

static gboolean
on_focus_out(GtkWidget *widget, GdkEventFocus *event, SsbInput *input)
{
    if (input->grabbed)
        ssb_input_ungrab(input);
    else
        release_all_keys(input);
    return FALSE;
}

static gboolean
on_grab_broken(GtkWidget *widget, GdkEventGrabBroken *event, SsbInput *input)
{
    if (event->keyboard && input->grabbed) {
        input->grabbed = FALSE;
        release_all_keys(input);
        ssb_display_notify_grab(input->display);
    }
    return FALSE;
}

/* -------------------------------------------------------------- pointer */

/* Widget coordinates to scanout coordinates; FALSE outside the picture. */
static gboolean
to_scanout(SsbInput *input, double wx, double wy, int *sx, int *sy)
{
    GtkWidget *widget = GTK_WIDGET(input->display);
    int iw, ih;
    SsbViewport vp;

    ssb_display_get_image_size(input->display, &iw, &ih);
    ssb_viewport_compute(gtk_widget_get_allocated_width(widget),
                         gtk_widget_get_allocated_height(widget), iw, ih, &vp);
    if (vp.width == 0)
        return FALSE;
    *sx = (int)floor((wx - vp.x) * iw / vp.width);
    *sy = (int)floor((wy - vp.y) * ih / vp.height);
    return *sx >= 0 && *sy >= 0 && *sx < iw && *sy < ih;
}

static void
send_pointer(SsbInput *input, double wx, double wy)
{
    int x, y;

    if (input->inputs == NULL || input->display_id < 0 || !to_scanout(input, wx, wy, &x, &y))
        return;
    if (client_mouse_mode(input)) {
        spice_inputs_channel_position(input->inputs, x, y, input->display_id,
                                      input->button_state);
    } else if (input->have_last) {
        /* server mode without pointer warping: deltas of the host pointer */
        if (x != input->last_x || y != input->last_y)
            spice_inputs_channel_motion(input->inputs, x - input->last_x, y - input->last_y,
                                        input->button_state);
    }
    input->last_x = x;
    input->last_y = y;
    input->have_last = TRUE;
}

static int
spice_button(guint gdk_button)
{
    switch (gdk_button) {
    case 1:
        return SPICE_MOUSE_BUTTON_LEFT;
    case 2:
        return SPICE_MOUSE_BUTTON_MIDDLE;
    case 3:
        return SPICE_MOUSE_BUTTON_RIGHT;
    case 8:
        return SPICE_MOUSE_BUTTON_SIDE;
    case 9:
        return SPICE_MOUSE_BUTTON_EXTRA;
    default:
        return SPICE_MOUSE_BUTTON_INVALID;
    }
}

static int
spice_button_mask(int button)
{
    switch (button) {
    case SPICE_MOUSE_BUTTON_LEFT:
        return SPICE_MOUSE_BUTTON_MASK_LEFT;
    case SPICE_MOUSE_BUTTON_MIDDLE:
        return SPICE_MOUSE_BUTTON_MASK_MIDDLE;
    case SPICE_MOUSE_BUTTON_RIGHT:
        return SPICE_MOUSE_BUTTON_MASK_RIGHT;
    case SPICE_MOUSE_BUTTON_SIDE:
        return SPICE_MOUSE_BUTTON_MASK_SIDE;
    case SPICE_MOUSE_BUTTON_EXTRA:
        return SPICE_MOUSE_BUTTON_MASK_EXTRA;
    default:
        return 0;
    }
}

static gboolean
on_motion(GtkWidget *widget, GdkEventMotion *motion, SsbInput *input)
{
    send_pointer(input, motion->x, motion->y);
    return TRUE;
}

static gboolean
on_button(GtkWidget *widget, GdkEventButton *event, SsbInput *input)
{
    int button = spice_button(event->button);

    if (event->type != GDK_BUTTON_PRESS && event->type != GDK_BUTTON_RELEASE)
        return TRUE; /* 2BUTTON/3BUTTON duplicates */
    if (event->type == GDK_BUTTON_PRESS) {
        gtk_widget_grab_focus(widget);
        grab(input);
    }
    if (button == SPICE_MOUSE_BUTTON_INVALID)
        return TRUE;
    send_pointer(input, event->x, event->y);
    if (input->inputs == NULL)
        return TRUE;
    if (event->type == GDK_BUTTON_PRESS) {
        input->button_state |= spice_button_mask(button);
        spice_inputs_channel_button_press(input->inputs, button, input->button_state);
    } else {
        input->button_state &= ~spice_button_mask(button);
        spice_inputs_channel_button_release(input->inputs, button, input->button_state);
    }
    return TRUE;
}

static void
wheel_click(SsbInput *input, int button)
{
    spice_inputs_channel_button_press(input->inputs, button, input->button_state);
    spice_inputs_channel_button_release(input->inputs, button, input->button_state);
}

static gboolean
on_scroll(GtkWidget *widget, GdkEventScroll *scroll, SsbInput *input)
{
    double dx, dy;

    send_pointer(input, scroll->x, scroll->y);
    if (input->inputs == NULL)
        return TRUE;
    switch (scroll->direction) {
    case GDK_SCROLL_UP:
        wheel_click(input, SPICE_MOUSE_BUTTON_UP);
        break;
    case GDK_SCROLL_DOWN:
        wheel_click(input, SPICE_MOUSE_BUTTON_DOWN);
        break;
    case GDK_SCROLL_SMOOTH:
        if (!gdk_event_get_scroll_deltas((GdkEvent *)scroll, &dx, &dy))
            break;
        input->scroll_dy += dy;
        for (; input->scroll_dy >= 1.0; input->scroll_dy -= 1.0)
            wheel_click(input, SPICE_MOUSE_BUTTON_DOWN);
        for (; input->scroll_dy <= -1.0; input->scroll_dy += 1.0)
            wheel_click(input, SPICE_MOUSE_BUTTON_UP);
        break;
    default:
        break;
    }
    return TRUE;
}

/* ------------------------------------------------------------ lifecycle */

SsbInput *
ssb_input_new(SsbDisplay *display, SpiceSession *session)
{
    SsbInput *input = g_new0(SsbInput, 1);
    GtkWidget *widget = GTK_WIDGET(display);
    GList *channels = spice_session_get_channels(session);

    input->display = display;
    input->session = session;
    input->display_id = -1;
    for (GList *l = channels; l != NULL; l = l->next)
        track_channel(input, l->data);
    g_list_free(channels);
    input->channel_new_id = g_signal_connect(session, "channel-new",
                                             G_CALLBACK(on_channel_new), input);
    input->channel_destroy_id = g_signal_connect(session, "channel-destroy",
                                                 G_CALLBACK(on_channel_destroy), input);

    gtk_widget_add_events(widget, GDK_POINTER_MOTION_MASK | GDK_BUTTON_PRESS_MASK |
                                  GDK_BUTTON_RELEASE_MASK | GDK_SCROLL_MASK |
                                  GDK_KEY_PRESS_MASK | GDK_KEY_RELEASE_MASK |
                                  GDK_ENTER_NOTIFY_MASK | GDK_LEAVE_NOTIFY_MASK |
                                  GDK_FOCUS_CHANGE_MASK);
    g_signal_connect(widget, "motion-notify-event", G_CALLBACK(on_motion), input);
    g_signal_connect(widget, "button-press-event", G_CALLBACK(on_button), input);
    g_signal_connect(widget, "button-release-event", G_CALLBACK(on_button), input);
    g_signal_connect(widget, "scroll-event", G_CALLBACK(on_scroll), input);
    g_signal_connect(widget, "key-press-event", G_CALLBACK(on_key), input);
    g_signal_connect(widget, "key-release-event", G_CALLBACK(on_key), input);
    g_signal_connect(widget, "focus-in-event", G_CALLBACK(on_focus_in), input);
    g_signal_connect(widget, "focus-out-event", G_CALLBACK(on_focus_out), input);
    g_signal_connect(widget, "grab-broken-event", G_CALLBACK(on_grab_broken), input);
    return input;
}

void
ssb_input_set_display_id(SsbInput *input, int display_channel_id)
{
    input->display_id = display_channel_id;
}

void
ssb_input_free(SsbInput *input)
{
    if (input == NULL)
        return;
    ssb_input_ungrab(input);
    g_signal_handlers_disconnect_by_data(input->display, input);
    g_signal_handler_disconnect(input->session, input->channel_new_id);
    g_signal_handler_disconnect(input->session, input->channel_destroy_id);
    g_clear_object(&input->inputs);
    g_clear_object(&input->main);
    g_free(input);
}
