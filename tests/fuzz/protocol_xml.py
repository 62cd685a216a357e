# SPDX-License-Identifier: MIT
"""
What the fuzzer needs from the protocol XML that libwayland's interface
tables leave out: which requests are destructors, each argument's name
(so a serial gets a serial and a width a size) and its enum's values.
Shared by gen_protocol_table.py and make_seeds.py, which must agree on
the interfaces' order.
"""

import xml.etree.ElementTree as ET


class Arg:
    def __init__(self, name, type_, interface, enum, nullable):
        self.name = name
        self.type = type_
        self.interface = interface
        self.enum = enum
        self.nullable = nullable


class Message:
    def __init__(self, name, since, destructor, args):
        self.name = name
        self.since = since
        self.destructor = destructor
        self.args = args


class Interface:
    def __init__(self, name, version):
        self.name = name
        self.version = version
        self.requests = []
        self.events = []
        self.enums = {}  # name -> (bitfield, [values])


def _int(text):
    return int(text, 0)


def _message(node):
    args = []
    for a in node.findall('arg'):
        args.append(Arg(a.get('name'), a.get('type'), a.get('interface'), a.get('enum'),
                        a.get('allow-null') == 'true'))
    return Message(node.get('name'), int(node.get('since', '1')),
                   node.get('type') == 'destructor', args)


def load(paths):
    """The interfaces of every file, in file order then document order."""
    interfaces = []
    for path in paths:
        for node in ET.parse(path).getroot().findall('interface'):
            iface = Interface(node.get('name'), int(node.get('version')))
            iface.requests = [_message(m) for m in node.findall('request')]
            iface.events = [_message(m) for m in node.findall('event')]
            for e in node.findall('enum'):
                values = [_int(v.get('value')) for v in e.findall('entry')]
                iface.enums[e.get('name')] = (e.get('bitfield') == 'true', values)
            interfaces.append(iface)
    return interfaces


def enum_values(interfaces, iface, ref):
    """An arg's enum="x" or enum="other.x" as (bitfield, values)."""
    owner, name = (ref.split('.', 1) if '.' in ref else (iface.name, ref))
    for other in interfaces:
        if other.name == owner and name in other.enums:
            return other.enums[name]
    return None


# How an integer argument is chosen, by its name when it has no enum.
HINTS_BY_NAME = {
    'serial': 'Serial',
    'width': 'Size', 'height': 'Size', 'size': 'Size',
    'min_width': 'Size', 'min_height': 'Size', 'max_width': 'Size', 'max_height': 'Size',
    'stride': 'Stride', 'offset': 'Offset',
    'x': 'Coord', 'y': 'Coord', 'dx': 'Coord', 'dy': 'Coord',
    'hotspot_x': 'Coord', 'hotspot_y': 'Coord',
    'format': 'Fourcc',
    'modifier_hi': 'Modifier', 'modifier_lo': 'Modifier',
    'scale': 'Scale', 'version': 'Version',
}


def hint(arg):
    if arg.type in ('fixed',):
        return 'Fixed'
    if arg.type not in ('int', 'uint'):
        return 'None'
    if arg.enum:
        return 'Enum'
    return HINTS_BY_NAME.get(arg.name, 'None')


def signature_args(message):
    """The XML args as libwayland's signature has them: an untyped new_id is three."""
    out = []
    for a in message.args:
        if a.type == 'new_id' and not a.interface:
            out.append(Arg('interface', 'string', None, None, False))
            out.append(Arg('version', 'uint', None, None, False))
        out.append(a)
    return out
