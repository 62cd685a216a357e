# Adds cmake/sanitizer_defaults.c to every executable under dir, so the
# sanitizer runtimes start with the project's options and suppressions.
function(heapcomp_add_sanitizer_defaults dir)
	get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
	foreach(target IN LISTS targets)
		get_target_property(type ${target} TYPE)
		if(type STREQUAL "EXECUTABLE")
			target_sources(${target} PRIVATE
				${HEAPCOMP_SOURCE_DIR}/cmake/sanitizer_defaults.c)
			# Its dlclose() must win over libc's for the libraries too.
			target_link_options(${target} PRIVATE
				-Wl,--export-dynamic-symbol=dlclose)
		endif()
	endforeach()
	get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
	foreach(subdir IN LISTS subdirs)
		heapcomp_add_sanitizer_defaults(${subdir})
	endforeach()
endfunction()
