/* SPDX-License-Identifier: MIT */
/*
 * Defaults the sanitizer runtimes read at startup, built into every
 * executable of a HEAPCOMP_SANITIZE build so they hold however a binary
 * is started (ctest, the test VM, by hand). The environment still
 * overrides them.
 */

const char *__ubsan_default_options(void)
{
	return "print_stacktrace=1:halt_on_error=1";
}

/*
 * Mesa's GBM loader and DRI drivers keep per-device allocations they
 * never free (driver name strings, screen state). They are not ours to
 * fix, and they would hide leaks that are.
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
