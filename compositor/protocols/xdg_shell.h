/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * xdg-shell, one unit per protocol object in xdg_shell/. Window policy
 * (placement, interactive move and resize) lives in shell/.
 */
#include "protocols/xdg_shell/xdg_popup.h"
#include "protocols/xdg_shell/xdg_positioner.h"
#include "protocols/xdg_shell/xdg_surface.h"
#include "protocols/xdg_shell/xdg_toplevel.h"
#include "protocols/xdg_shell/xdg_wm_base.h"
