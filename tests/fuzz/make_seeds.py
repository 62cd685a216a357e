#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
Writes the fuzzer's seed corpus and dictionary from readable programs:
    make_seeds.py [OUTDIR]    (default: this directory's corpus/ and heapcomp.dict)
Each seed reaches a state worth mutating from: a mapped toplevel, a popup
with a grab, a drag, dma-buf params, ... The encoding is harness.cpp's.
"""

import os
import struct
import subprocess
import sys

# Builds run this from the source tree: leave no __pycache__ there.
sys.dont_write_bytecode = True
import protocol_xml  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))

# The table's order: the core protocol, then protocols/CMakeLists.txt's list.
XMLS = [
    '%(wayland)s/wayland.xml',
    '%(protocols)s/stable/xdg-shell/xdg-shell.xml',
    '%(protocols)s/stable/viewporter/viewporter.xml',
    '%(protocols)s/stable/presentation-time/presentation-time.xml',
    '%(protocols)s/unstable/linux-dmabuf/linux-dmabuf-unstable-v1.xml',
    '%(protocols)s/unstable/xdg-output/xdg-output-unstable-v1.xml',
    '%(heapcomp)s/protocols/heapcomp-heaps-v1.xml',
]

# harness.cpp's FdPool and string list, by index.
FD_4K, FD_OUTPUT, FD_1M, FD_EMPTY, FD_SEALED = range(5)
STR_TEXT, STR_TEXT_UTF8 = 0, 1
STR_TITLE, STR_APP_ID = 7, 8

BTN_LEFT, BTN_RIGHT = 0, 1
KEY_A, KEY_ESC = 0, 1

W, H = 160, 120
XRGB_SHM, XR24 = 1, 0x34325258


def pkg_dir(package, fallback):
    try:
        out = subprocess.run(['pkg-config', '--variable=pkgdatadir', package],
                             capture_output=True, text=True, check=True).stdout.strip()
        return out or fallback
    except (OSError, subprocess.CalledProcessError):
        return fallback


class Serial:
    """The newest serial the client saw."""


SERIAL = Serial()


class Obj:
    """The n-th newest live object of the argument's interface; None is null."""

    def __init__(self, n=0):
        self.n = n


class Str:
    def __init__(self, index=None, raw=None):
        self.index = index
        self.raw = raw


class Fd:
    def __init__(self, index):
        self.index = index


def fixed(value):
    return int(value * 256) & 0xffffffff


class Program:
    def __init__(self, interfaces):
        self.interfaces = interfaces
        self.index = {iface.name: i for i, iface in enumerate(interfaces)}
        self.out = bytearray()

    def bind(self, name):
        self.out += bytes([0xa0, self.index[name], 0])
        return self

    def req(self, target, request, *args, obj=0):
        """target.request(args) on the obj-th newest live target."""
        iface = self.interfaces[self.index[target]]
        opcode = [m.name for m in iface.requests].index(request)
        self.out += bytes([0x00, self.index[target], obj, opcode])
        values = list(args)
        for arg in protocol_xml.signature_args(iface.requests[opcode]):
            if arg.type == 'new_id':
                continue
            value = values.pop(0)
            self.out += encode(arg, value)
        assert not values, 'too many arguments for %s.%s' % (target, request)
        return self

    def frame(self):
        self.out += b'\xb1'
        return self

    def motion(self, view=0, where=1):
        """To a view: where 0 its corner, 1 its centre, 2 the far corner, 3-5 just outside."""
        self.out += bytes([0xb8, view, where])
        return self

    def button(self, button, press):
        self.out += bytes([0xc1 if press else 0xc0, button])
        return self

    def key(self, key, press):
        self.out += bytes([0xcd if press else 0xcc, key])
        return self

    def touch(self, what, touch_id=0, view=0, where=1):
        self.out += bytes([0xd4, what, touch_id])
        if what in (0, 1):
            self.out += bytes([view, where])
        return self

    def client(self, what, which=0):
        self.out += bytes([0xdc, what])
        if what == 1:
            self.out += bytes([which])
        return self

    def shrink(self, fd):
        self.out += bytes([0xe0, fd])
        return self

    def output(self, plug, which=0):
        """Plugs a display in, or unplugs the which-th but the first."""
        self.out += bytes([0xe8 if plug else 0xe9, which])
        return self


def encode(arg, value):
    if arg.type in ('int', 'uint', 'fixed'):
        if value is SERIAL:
            return b'\x00'
        return b'\xf0' + struct.pack('<I', value & 0xffffffff)
    if arg.type == 'string':
        if value is None:
            return b'\xff'
        if value.raw is not None:
            return bytes([0xc0, len(value.raw)]) + value.raw
        return bytes([value.index])
    if arg.type == 'object':
        return b'\xff' if value is None else bytes([value.n])
    if arg.type == 'fd':
        return bytes([value.index])
    if arg.type == 'array':
        return bytes([len(value)]) + bytes(value)
    raise ValueError(arg.type)


def globals_(p, *names):
    for name in names:
        p.bind(name)
    return p


def mapped_toplevel(p, title=STR_TITLE, fd=FD_OUTPUT, w=W, h=H):
    """A toplevel with a wl_shm buffer on screen (needs compositor, shm, xdg_wm_base)."""
    p.req('wl_compositor', 'create_surface')
    p.req('xdg_wm_base', 'get_xdg_surface', Obj())
    p.req('xdg_surface', 'get_toplevel')
    p.req('xdg_toplevel', 'set_title', Str(title))
    p.req('xdg_toplevel', 'set_app_id', Str(STR_APP_ID))
    p.req('wl_surface', 'commit')
    p.req('xdg_surface', 'ack_configure', SERIAL)
    p.req('wl_shm', 'create_pool', Fd(fd), w * h * 4)
    p.req('wl_shm_pool', 'create_buffer', 0, w, h, w * 4, XRGB_SHM)
    p.req('wl_surface', 'attach', Obj(), 0, 0)
    p.req('wl_surface', 'damage', 0, 0, w, h)
    p.req('wl_surface', 'frame')
    p.req('wl_surface', 'commit')
    p.frame()
    return p


def grabbing_popup(p, w, h, anchor):
    """A popup of the newest xdg_surface, w x h at anchor, grabbing the newest serial."""
    p.req('xdg_wm_base', 'create_positioner')
    p.req('xdg_positioner', 'set_size', w, h)
    p.req('xdg_positioner', 'set_anchor_rect', *anchor)
    p.req('wl_compositor', 'create_surface')
    p.req('xdg_wm_base', 'get_xdg_surface', Obj())
    p.req('xdg_surface', 'get_popup', Obj(1), Obj())
    p.req('xdg_popup', 'grab', Obj(), SERIAL)
    p.req('wl_surface', 'commit')
    p.req('xdg_surface', 'ack_configure', SERIAL)
    return p


def input_devices(p):
    p.req('wl_seat', 'get_pointer')
    p.req('wl_seat', 'get_keyboard')
    p.req('wl_seat', 'get_touch')
    return p


def seeds(interfaces):
    new = lambda: Program(interfaces)
    core = ('wl_compositor', 'wl_shm', 'xdg_wm_base')
    out = {}

    p = globals_(new(), *core, 'wl_seat')
    mapped_toplevel(p)
    input_devices(p)
    p.motion().button(BTN_LEFT, True).button(BTN_LEFT, False).key(KEY_A, True).key(KEY_A, False)
    p.req('xdg_toplevel', 'set_maximized').req('wl_surface', 'commit').frame()
    p.req('xdg_toplevel', 'set_fullscreen', None).req('wl_surface', 'commit').frame()
    out['toplevel-input'] = p

    p = globals_(new(), *core, 'wl_seat')
    mapped_toplevel(p)
    input_devices(p)
    p.motion().button(BTN_LEFT, True)
    grabbing_popup(p, 40, 30, (10, 10, 20, 20))
    p.req('wl_shm', 'create_pool', Fd(FD_4K), 4096)
    p.req('wl_shm_pool', 'create_buffer', 0, 16, 16, 64, XRGB_SHM)
    p.req('wl_surface', 'attach', Obj(), 0, 0)
    p.req('wl_surface', 'commit')
    p.frame().button(BTN_LEFT, False).motion(1, 1).motion(0, 5).button(BTN_LEFT, True)
    p.button(BTN_LEFT, False).key(KEY_ESC, True).key(KEY_ESC, False)
    out['popup-grab'] = p

    p = globals_(new(), *core, 'wl_seat', 'wl_data_device_manager')
    mapped_toplevel(p)
    input_devices(p)
    p.req('wl_data_device_manager', 'get_data_device', Obj())
    p.motion().button(BTN_LEFT, True)
    p.req('wl_data_device_manager', 'create_data_source')
    p.req('wl_data_source', 'offer', Str(STR_TEXT))
    p.req('wl_data_source', 'offer', Str(STR_TEXT_UTF8))
    p.req('wl_data_source', 'set_actions', 3)
    p.req('wl_data_device', 'start_drag', Obj(), Obj(), None, SERIAL)
    p.req('wl_data_offer', 'accept', SERIAL, Str(STR_TEXT))
    p.req('wl_data_offer', 'set_actions', 1, 1)
    p.motion(0, 2).button(BTN_LEFT, False).frame()
    p.req('wl_data_offer', 'receive', Str(STR_TEXT), Fd(FD_4K))
    p.req('wl_data_offer', 'finish')
    p.req('wl_data_source', 'destroy')
    out['drag-and-drop'] = p

    p = globals_(new(), *core, 'wl_seat', 'wl_data_device_manager')
    mapped_toplevel(p)
    input_devices(p)
    p.req('wl_data_device_manager', 'get_data_device', Obj())
    p.motion().button(BTN_LEFT, True).button(BTN_LEFT, False)
    p.req('wl_data_device_manager', 'create_data_source')
    p.req('wl_data_source', 'offer', Str(STR_TEXT))
    p.req('wl_data_device', 'set_selection', Obj(), SERIAL)
    p.client(0)
    globals_(p, *core, 'wl_seat', 'wl_data_device_manager')
    mapped_toplevel(p, fd=FD_1M)
    input_devices(p)
    p.req('wl_data_device_manager', 'get_data_device', Obj())
    p.motion(1).button(BTN_LEFT, True).button(BTN_LEFT, False).frame()
    p.req('wl_data_offer', 'receive', Str(STR_TEXT), Fd(FD_4K))
    p.client(1, 0).client(2).frame()
    out['selection-two-clients'] = p

    p = globals_(new(), *core, 'wl_subcompositor', 'wp_viewporter', 'wp_presentation')
    mapped_toplevel(p)
    p.req('wp_viewporter', 'get_viewport', Obj())
    p.req('wp_viewport', 'set_source', fixed(10), fixed(10), fixed(100), fixed(50))
    p.req('wp_viewport', 'set_destination', 80, 40)
    p.req('wl_compositor', 'create_surface')
    p.req('wl_subcompositor', 'get_subsurface', Obj(), Obj(1))
    p.req('wl_subsurface', 'set_position', 20, 10)
    p.req('wl_subsurface', 'set_desync')
    p.req('wl_shm', 'create_pool', Fd(FD_4K), 4096)
    p.req('wl_shm_pool', 'create_buffer', 0, 16, 16, 64, XRGB_SHM)
    p.req('wl_surface', 'attach', Obj(), 0, 0)
    p.req('wl_surface', 'set_buffer_scale', 2)
    p.req('wl_surface', 'set_buffer_transform', 1)
    p.req('wl_surface', 'commit')
    p.req('wp_presentation', 'feedback', Obj(1))
    p.req('wl_surface', 'commit', obj=1)
    p.frame().frame()
    out['subsurface-viewport-presentation'] = p

    p = globals_(new(), 'wl_compositor', 'zwp_linux_dmabuf_v1')
    p.req('wl_compositor', 'create_surface')
    p.req('zwp_linux_dmabuf_v1', 'get_default_feedback')
    p.req('zwp_linux_dmabuf_v1', 'get_surface_feedback', Obj())
    p.req('zwp_linux_dmabuf_v1', 'create_params')
    p.req('zwp_linux_buffer_params_v1', 'add', Fd(FD_OUTPUT), 0, 0, W * 4, 0, 0)
    p.req('zwp_linux_buffer_params_v1', 'create', W, H, XR24, 0)
    p.req('zwp_linux_dmabuf_v1', 'create_params')
    p.req('zwp_linux_buffer_params_v1', 'add', Fd(FD_SEALED), 0, 0, W * 4, 0, 0)
    p.req('zwp_linux_buffer_params_v1', 'create_immed', W, H, XR24, 0)
    out['linux-dmabuf'] = p

    p = globals_(new(), *core, 'wl_seat', 'wl_output', 'zxdg_output_manager_v1')
    p.req('zxdg_output_manager_v1', 'get_xdg_output', Obj())
    mapped_toplevel(p)
    input_devices(p)
    p.touch(0).touch(3).touch(1, view=0, where=2).touch(3).touch(2).touch(3)
    p.touch(0, touch_id=1).touch(4)
    p.shrink(FD_OUTPUT)
    p.req('wl_surface', 'damage_buffer', 0, 0, W, H)
    p.req('wl_surface', 'commit').frame()
    out['output-touch-shrink'] = p

    # A window maximized and moved to a display that then goes, with xdg_output.
    p = globals_(new(), *core, 'wl_seat', 'wl_output', 'zxdg_output_manager_v1')
    p.req('zxdg_output_manager_v1', 'get_xdg_output', Obj())
    mapped_toplevel(p)
    input_devices(p)
    p.output(True).frame().bind('wl_output')
    p.req('zxdg_output_manager_v1', 'get_xdg_output', Obj())
    p.motion(0, 2).req('xdg_toplevel', 'set_maximized').req('wl_surface', 'commit').frame()
    p.output(False).frame()
    p.req('xdg_toplevel', 'unset_maximized').req('wl_surface', 'commit').frame()
    p.output(True).output(True).frame().bind('wl_output').output(False, 1).frame()
    out['output-hotplug'] = p

    # Two subsurfaces restacked around each other and their parent, synced
    # and not, one destroyed while the parent's state still names it.
    p = globals_(new(), *core, 'wl_subcompositor')
    mapped_toplevel(p)
    for i in range(2):
        p.req('wl_compositor', 'create_surface')
        p.req('wl_subcompositor', 'get_subsurface', Obj(), Obj(1 + i))
        p.req('wl_subsurface', 'set_position', 10 + 30 * i, 10)
        p.req('wl_shm', 'create_pool', Fd(FD_4K), 4096)
        p.req('wl_shm_pool', 'create_buffer', 0, 16, 16, 64, XRGB_SHM)
        p.req('wl_surface', 'attach', Obj(), 0, 0)
        p.req('wl_surface', 'commit')
    p.req('wl_surface', 'commit', obj=2).frame()
    p.req('wl_subsurface', 'place_below', Obj(2))
    p.req('wl_subsurface', 'place_above', Obj(0), obj=1)
    p.req('wl_surface', 'commit', obj=2).frame()
    p.req('wl_subsurface', 'set_desync')
    p.req('wl_subsurface', 'set_position', -20, 50)
    p.req('wl_surface', 'commit')
    p.req('wl_subsurface', 'set_sync')
    p.req('wl_subsurface', 'place_above', Obj(1))
    p.req('wl_subsurface', 'destroy', obj=1)
    p.req('wl_surface', 'commit', obj=2).frame()
    out['subsurface-restack'] = p

    # Interactive move from a button press and from a touch, resize from a
    # press; the toplevel goes while its resize grab holds the pointer.
    p = globals_(new(), *core, 'wl_seat')
    mapped_toplevel(p)
    input_devices(p)
    p.motion().button(BTN_LEFT, True)
    p.req('xdg_toplevel', 'move', Obj(), SERIAL)
    p.motion(0, 2).motion(0, 0).button(BTN_LEFT, False).frame()
    p.touch(0)
    p.req('xdg_toplevel', 'move', Obj(), SERIAL)
    p.touch(1, view=0, where=2).touch(2).frame()
    p.motion().button(BTN_LEFT, True)
    p.req('xdg_toplevel', 'resize', Obj(), SERIAL, 10)
    p.motion(0, 2).frame()
    p.req('xdg_surface', 'ack_configure', SERIAL)
    p.req('wl_surface', 'commit').frame()
    p.req('xdg_toplevel', 'destroy')
    p.motion(0, 0).button(BTN_LEFT, False).frame()
    out['move-resize'] = p

    # Nested popups holding the grab when their toplevel goes, then a
    # parent popup destroyed before its child (a protocol error).
    p = globals_(new(), *core, 'wl_seat')
    mapped_toplevel(p)
    input_devices(p)
    p.motion().button(BTN_LEFT, True)
    for size in (40, 20):
        grabbing_popup(p, size, size, (0, 0, 10, 10))
    p.button(BTN_LEFT, False).frame()
    p.req('xdg_toplevel', 'destroy')
    p.motion(0, 5).button(BTN_LEFT, True).button(BTN_LEFT, False)
    p.key(KEY_ESC, True).key(KEY_ESC, False).frame()
    p.req('xdg_popup', 'destroy', obj=1)
    out['popup-grab-cancel'] = p

    # The harness's fixture heaps: 1 system, 2 default_cma_region, 3 its alias.
    p = globals_(new(), *core, 'zwp_linux_dmabuf_v1', 'heapcomp_heaps_v1')
    mapped_toplevel(p)
    p.req('heapcomp_heaps_v1', 'get_default_feedback')
    p.req('heapcomp_heaps_v1', 'get_surface_feedback', Obj())
    p.req('xdg_toplevel', 'set_fullscreen', None).req('wl_surface', 'commit').frame()
    p.req('heapcomp_heaps_v1', 'allocate', 1, W, H, XR24, 0, 0, 1)
    p.req('heapcomp_heaps_v1', 'allocate', 2, W, H, XR24, 0, 0, 0)
    p.req('heapcomp_heaps_v1', 'allocate', 3, 8192, 8192, XR24, 0x01000000, 1, 4)
    p.req('heapcomp_heap_buffer_v1', 'destroy')
    p.req('heapcomp_heap_feedback_v1', 'destroy')
    p.req('wl_surface', 'destroy').frame()
    out['heap-hints'] = p
    return out


def dictionary(interfaces):
    """Each request's step header, each bind, and raw values worth splicing in."""
    lines = []
    for i, iface in enumerate(interfaces):
        lines.append('bind_%s="\\xa0\\x%02x\\x00"' % (iface.name, i))
        for opcode, msg in enumerate(iface.requests):
            lines.append('%s_%s="\\x00\\x%02x\\x00\\x%02x"' % (iface.name, msg.name, i, opcode))
    for name, value in (('xr24', XR24), ('ar24', 0x34325241), ('nv12', 0x3231564e),
                        ('output_bytes', W * H * 4), ('output_stride', W * 4),
                        ('int_max', 0x7fffffff), ('int_min', 0x80000000)):
        lines.append('%s="\\xf0%s"' % (name, ''.join('\\x%02x' % b for b in
                                                     struct.pack('<I', value))))
    return '\n'.join(lines) + '\n'


def main():
    dirs = {'heapcomp': os.path.dirname(os.path.dirname(HERE)),
            'wayland': pkg_dir('wayland-scanner', '/usr/share/wayland'),
            'protocols': pkg_dir('wayland-protocols', '/usr/share/wayland-protocols')}
    interfaces = protocol_xml.load([x % dirs for x in XMLS])
    outdir = sys.argv[1] if len(sys.argv) > 1 else HERE
    corpus = os.path.join(outdir, 'corpus')
    os.makedirs(corpus, exist_ok=True)
    for name, program in seeds(interfaces).items():
        with open(os.path.join(corpus, 'seed-' + name), 'wb') as f:
            f.write(program.out)
    with open(os.path.join(outdir, 'heapcomp.dict'), 'w') as f:
        f.write('# Generated by make_seeds.py: step headers and raw values.\n')
        f.write(dictionary(interfaces))


if __name__ == '__main__':
    main()
