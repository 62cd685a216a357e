/* SPDX-License-Identifier: MIT */
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include <bufmgr/result.h>
#include <bufmgr/unique_fd.h>

namespace bufmgr {

/*
 * Sealed memfds: memory shared with other processes that they cannot
 * change in ways that hurt this one.
 */

/*
 * `size` zero bytes that can never shrink, so that no peer can make our
 * mappings SIGBUS; sealGrow also fixes the size (udmabuf needs that).
 */
Result<UniqueFd> createSealedMemfd(const std::string &name, uint64_t size, bool sealGrow);

/*
 * A copy of contents that nobody can change any more: for what every
 * client maps read-only (a keymap, a format table), so that no client
 * can alter what the others read.
 */
Result<UniqueFd> createSealedMemfd(const std::string &name, std::span<const std::byte> contents);

} /* namespace bufmgr */
