"""The shared libraries an ELF file asks the dynamic loader for (``DT_NEEDED``), read with nothing but
``struct``: the doctor must work where ``readelf``/``ldd`` are missing and before MindSpore can load."""
import struct

DT_NEEDED = 1
DT_RPATH = 15
DT_RUNPATH = 29
SHT_DYNAMIC = 6


def needed_libraries(path):
    """Sonames in ``path``'s dynamic section, in file order.  Raises ValueError for a non-ELF64 file."""
    return dynamic_strings(path, DT_NEEDED)


def search_path(path):
    """The folders ``path`` asks the loader to search first (DT_RPATH / DT_RUNPATH), ``$ORIGIN`` expanded."""
    import os  # pylint: disable=import-outside-toplevel
    origin = os.path.dirname(os.path.abspath(path))
    folders = []
    for entry in dynamic_strings(path, DT_RPATH) + dynamic_strings(path, DT_RUNPATH):
        folders += [part.replace("$ORIGIN", origin) for part in entry.split(":") if part]
    return folders


def dynamic_strings(path, wanted_tag):
    """String values of one dynamic-section tag."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2:
        raise ValueError(f"{path} is not a 64-bit ELF file")
    endian = "<" if data[5] == 1 else ">"
    shoff, = struct.unpack_from(endian + "Q", data, 0x28)
    shentsize, shnum = struct.unpack_from(endian + "HH", data, 0x3A)
    sections = []
    for i in range(shnum):
        base = shoff + i * shentsize
        _, sh_type, _, sh_addr, sh_offset, sh_size, sh_link = struct.unpack_from(endian + "IIQQQQI", data, base)
        sections.append((sh_type, sh_addr, sh_offset, sh_size, sh_link))
    names = []
    for sh_type, _, offset, size, link in sections:
        if sh_type != SHT_DYNAMIC:
            continue
        strtab_offset = sections[link][2]
        for pos in range(offset, offset + size, 16):
            tag, value = struct.unpack_from(endian + "qQ", data, pos)
            if tag == 0:
                break
            if tag == wanted_tag:
                end = data.index(b"\0", strtab_offset + value)
                names.append(data[strtab_offset + value:end].decode())
    return names
