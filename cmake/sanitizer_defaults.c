/* SPDX-License-Identifier: MIT */
/*
 * Defaults the sanitizer runtimes read at startup, built into every
 * executable of a HEAPCOMP_SANITIZE build so they hold however a binary
 * is started (ctest, the test VM, by hand). The environment still
 * overrides them.
 */

#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <string.h>

const char *__ubsan_default_options(void)
{
	return "print_stacktrace=1:halt_on_error=1";
}

/*
 * Mesa's GBM loader and DRI drivers keep per-device allocations they
 * never free (driver name strings, screen state). They are not ours to
 * fix, and they would hide leaks that are.
 *
 * Some of those allocations are reachable only from the driver's own
 * globals. When the last EGL display goes, Mesa unloads the driver, its
 * globals stop being roots, and LeakSanitizer reports them from an
 * "<unknown module>" that no suppression can name. Keeping the driver
 * loaded (dlclose() below) keeps them reachable, and names the driver
 * in the stacks of anything it really leaks.
 */
const char *__lsan_default_suppressions(void)
{
	return "leak:libgbm.so\n"
	       "leak:_dri.so\n"
	       "leak:libEGL_mesa.so\n"
	       "leak:libglapi.so\n";
}

const char *__lsan_default_options(void)
{
	return "print_suppressions=0";
}

/*
 * Leaves Mesa's DRI drivers loaded; every other module closes as usual.
 * Interposed for the whole process, as the executable comes first in
 * symbol lookup (linked with --export-dynamic-symbol=dlclose).
 */
int dlclose(void *handle)
{
	static int (*next)(void *);
	struct link_map *map = NULL;

	if (dlinfo(handle, RTLD_DI_LINKMAP, &map) == 0 && map && map->l_name &&
	    strstr(map->l_name, "_dri.so"))
		return 0;
	if (!next)
		next = (int (*)(void *))dlsym(RTLD_NEXT, "dlclose");
	return next(handle);
}
