/* Linux evdev key codes to PC AT set-1 (XT) scancodes.
 *
 * Written for this project from the two public tables: the kernel's
 * linux/input-event-codes.h and the set-1 make codes of the IBM PC/AT
 * keyboard (plus Microsoft's "Keyboard Scan Code Specification" for the
 * Windows and multimedia keys).  It covers the 104/105-key layouts, the
 * keypad, the Japanese/Korean/Brazilian extras, F13-F24, and the media,
 * power and browser keys, the same ground as spice-gtk's keymap-gen output.
 * Extended keys are written 0xe0XX (the bytes a real keyboard sends); the
 * event log of the demo prints them the same way.
 *
 * Copyright (C) 2026 The spice-sideband authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "display-private.h"

#include <linux/input-event-codes.h>

static const guint16 evdev_to_xt[KEY_MICMUTE + 1] = {
    /* evdev 1..83 match set 1 one to one: the main block and keypad */
    [KEY_ESC] = 0x01,
    [KEY_1] = 0x02, [KEY_2] = 0x03, [KEY_3] = 0x04, [KEY_4] = 0x05, [KEY_5] = 0x06,
    [KEY_6] = 0x07, [KEY_7] = 0x08, [KEY_8] = 0x09, [KEY_9] = 0x0a, [KEY_0] = 0x0b,
    [KEY_MINUS] = 0x0c, [KEY_EQUAL] = 0x0d, [KEY_BACKSPACE] = 0x0e, [KEY_TAB] = 0x0f,
    [KEY_Q] = 0x10, [KEY_W] = 0x11, [KEY_E] = 0x12, [KEY_R] = 0x13, [KEY_T] = 0x14,
    [KEY_Y] = 0x15, [KEY_U] = 0x16, [KEY_I] = 0x17, [KEY_O] = 0x18, [KEY_P] = 0x19,
    [KEY_LEFTBRACE] = 0x1a, [KEY_RIGHTBRACE] = 0x1b, [KEY_ENTER] = 0x1c,
    [KEY_LEFTCTRL] = 0x1d,
    [KEY_A] = 0x1e, [KEY_S] = 0x1f, [KEY_D] = 0x20, [KEY_F] = 0x21, [KEY_G] = 0x22,
    [KEY_H] = 0x23, [KEY_J] = 0x24, [KEY_K] = 0x25, [KEY_L] = 0x26,
    [KEY_SEMICOLON] = 0x27, [KEY_APOSTROPHE] = 0x28, [KEY_GRAVE] = 0x29,
    [KEY_LEFTSHIFT] = 0x2a, [KEY_BACKSLASH] = 0x2b,
    [KEY_Z] = 0x2c, [KEY_X] = 0x2d, [KEY_C] = 0x2e, [KEY_V] = 0x2f, [KEY_B] = 0x30,
    [KEY_N] = 0x31, [KEY_M] = 0x32,
    [KEY_COMMA] = 0x33, [KEY_DOT] = 0x34, [KEY_SLASH] = 0x35, [KEY_RIGHTSHIFT] = 0x36,
    [KEY_KPASTERISK] = 0x37, [KEY_LEFTALT] = 0x38, [KEY_SPACE] = 0x39, [KEY_CAPSLOCK] = 0x3a,
    [KEY_F1] = 0x3b, [KEY_F2] = 0x3c, [KEY_F3] = 0x3d, [KEY_F4] = 0x3e, [KEY_F5] = 0x3f,
    [KEY_F6] = 0x40, [KEY_F7] = 0x41, [KEY_F8] = 0x42, [KEY_F9] = 0x43, [KEY_F10] = 0x44,
    [KEY_NUMLOCK] = 0x45, [KEY_SCROLLLOCK] = 0x46,
    [KEY_KP7] = 0x47, [KEY_KP8] = 0x48, [KEY_KP9] = 0x49, [KEY_KPMINUS] = 0x4a,
    [KEY_KP4] = 0x4b, [KEY_KP5] = 0x4c, [KEY_KP6] = 0x4d, [KEY_KPPLUS] = 0x4e,
    [KEY_KP1] = 0x4f, [KEY_KP2] = 0x50, [KEY_KP3] = 0x51, [KEY_KP0] = 0x52,
    [KEY_KPDOT] = 0x53,

    /* 105th key, F11/F12, the Japanese and Brazilian keys */
    [KEY_ZENKAKUHANKAKU] = 0x76, [KEY_102ND] = 0x56, [KEY_F11] = 0x57, [KEY_F12] = 0x58,
    [KEY_RO] = 0x73, [KEY_KATAKANA] = 0x78, [KEY_HIRAGANA] = 0x77, [KEY_HENKAN] = 0x79,
    [KEY_KATAKANAHIRAGANA] = 0x70, [KEY_MUHENKAN] = 0x7b, [KEY_KPJPCOMMA] = 0x5c,
    [KEY_YEN] = 0x7d, [KEY_KPCOMMA] = 0x7e, [KEY_KPEQUAL] = 0x59,
    /* Korean keys send one byte and no break code */
    [KEY_HANGEUL] = 0xf2, [KEY_HANJA] = 0xf1,

    /* the extended (0xe0) keys of the 101/104-key keyboard */
    [KEY_KPENTER] = 0xe01c, [KEY_RIGHTCTRL] = 0xe01d, [KEY_KPSLASH] = 0xe035,
    [KEY_SYSRQ] = 0xe037,   /* Print Screen; with Alt the keyboard sends 0x54 */
    [KEY_RIGHTALT] = 0xe038,
    [KEY_HOME] = 0xe047, [KEY_UP] = 0xe048, [KEY_PAGEUP] = 0xe049, [KEY_LEFT] = 0xe04b,
    [KEY_RIGHT] = 0xe04d, [KEY_END] = 0xe04f, [KEY_DOWN] = 0xe050, [KEY_PAGEDOWN] = 0xe051,
    [KEY_INSERT] = 0xe052, [KEY_DELETE] = 0xe053,
    /* Pause sends e1 1d 45 on a real keyboard; like keymap-gen, use the
     * Ctrl+Break code, which SPICE can carry as a press/release pair */
    [KEY_PAUSE] = 0xe046,
    [KEY_LEFTMETA] = 0xe05b, [KEY_RIGHTMETA] = 0xe05c, [KEY_COMPOSE] = 0xe05d,

    /* ACPI keys */
    [KEY_POWER] = 0xe05e, [KEY_SLEEP] = 0xe05f, [KEY_WAKEUP] = 0xe063,

    /* multimedia keys (Microsoft's set-1 assignments) */
    [KEY_MUTE] = 0xe020, [KEY_VOLUMEDOWN] = 0xe02e, [KEY_VOLUMEUP] = 0xe030,
    [KEY_NEXTSONG] = 0xe019, [KEY_PREVIOUSSONG] = 0xe010, [KEY_STOPCD] = 0xe024,
    [KEY_PLAYPAUSE] = 0xe022, [KEY_MEDIA] = 0xe06d, [KEY_MAIL] = 0xe06c,
    [KEY_CALC] = 0xe021, [KEY_COMPUTER] = 0xe06b, [KEY_SEARCH] = 0xe065,
    [KEY_HOMEPAGE] = 0xe032, [KEY_BACK] = 0xe06a, [KEY_FORWARD] = 0xe069,
    [KEY_STOP] = 0xe068, [KEY_REFRESH] = 0xe067, [KEY_BOOKMARKS] = 0xe066,
    [KEY_CONFIG] = 0xe06d,

    /* Sun-style editing keys as QEMU and keymap-gen place them */
    [KEY_AGAIN] = 0xe005, [KEY_PROPS] = 0xe006, [KEY_UNDO] = 0xe007, [KEY_FRONT] = 0xe00c,
    [KEY_COPY] = 0xe078, [KEY_OPEN] = 0x64, [KEY_PASTE] = 0x65, [KEY_FIND] = 0xe041,
    [KEY_CUT] = 0xe03c, [KEY_HELP] = 0xe075, [KEY_MENU] = 0xe01e,

    /* F13-F24 */
    [KEY_F13] = 0x5d, [KEY_F14] = 0x5e, [KEY_F15] = 0x5f, [KEY_F16] = 0x55,
    [KEY_F17] = 0xe003, [KEY_F18] = 0xe077, [KEY_F19] = 0xe004, [KEY_F20] = 0x5a,
    [KEY_F21] = 0x74, [KEY_F22] = 0xe079, [KEY_F23] = 0x6d, [KEY_F24] = 0x6f,
};

guint
ssb_keymap_evdev_to_xt(guint evdev)
{
    return evdev < G_N_ELEMENTS(evdev_to_xt) ? evdev_to_xt[evdev] : 0;
}

guint
ssb_keymap_xt_to_spice(guint xt)
{
    /* spice_inputs_channel_key_press() encodes 0x100 | XX as e0 XX */
    if ((xt & 0xff00) == 0xe000)
        return 0x100 | (xt & 0xff);
    return xt & 0xff;
}
