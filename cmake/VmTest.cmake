# Tests that run inside the test VM (scripts/vm/run): our own kernel with
# VKMS, VGEM, DMA-BUF heaps, CMA and udmabuf, booted under qemu.
#
#   heapcomp_add_vm_test(NAME <name> COMMAND <target-or-path> [args...]
#                        [TIMEOUT <s>] [MEM <MiB>] [CMA <size>] [OUT_DIR <dir>]
#                        [PCI_DISPLAY] [ENV <NAME[=VALUE]>...] [LABELS <label>...])
#     Adds a ctest test labelled "vm" that runs the command as root inside
#     the VM, in the test's working directory. COMMAND may name an executable
#     target defined before the call. OUT_DIR is writable inside the VM at the
#     same path ($HEAPCOMP_VM_OUT). TIMEOUT defaults to
#     HEAPCOMP_VM_TEST_TIMEOUT. CMA sizes the CMA area (run --cma, as the
#     kernel's cma=). PCI_DISPLAY adds a display on the PCI bus
#     (run --pci-display). A VM that cannot boot fails the test.
#
#   heapcomp_add_vm_gtest(<target> [NAME <name>] [ARGS <arg>...]
#                         [TIMEOUT <s>] [MEM <MiB>] [CMA <size>] [PCI_DISPLAY] [ENV ...]
#                         [LABELS ...])
#     The same for a GoogleTest executable: its output goes to the ctest log
#     and its XML report to <binary dir>/vm-results/<name>/<name>.xml.
#
# VM tests hold the RESOURCE_LOCK heapcomp_vm (one VM at a time) and all CPUs.
# The kernel is built or found in its cache by the setup test
# heapcomp_vm_kernel, so a VM test's time limit never has to cover a build;
# the custom target vm-kernel does the same from the build system.

include_guard(GLOBAL)

set(HEAPCOMP_VM_SCRIPTS "${CMAKE_CURRENT_LIST_DIR}/../scripts/vm")
cmake_path(NORMAL_PATH HEAPCOMP_VM_SCRIPTS)
set(HEAPCOMP_VM_TEST_TIMEOUT 300 CACHE STRING "Default time limit of one VM test, in seconds")
set(HEAPCOMP_VM_KERNEL_TIMEOUT 3600 CACHE STRING "Time limit for downloading and building the VM kernel, in seconds")
# Guest CPUs: TCG runs one host thread per guest CPU.
set(HEAPCOMP_VM_CPUS 2 CACHE STRING "CPUs of the test VM")

if(NOT TARGET vm-kernel)
	add_custom_target(vm-kernel
		COMMAND "${HEAPCOMP_VM_SCRIPTS}/build-kernel"
		COMMENT "Building the test VM kernel (cached)"
		USES_TERMINAL)
endif()

function(_heapcomp_add_vm_kernel_test)
	get_property(added GLOBAL PROPERTY _HEAPCOMP_VM_KERNEL_TEST)
	if(added)
		return()
	endif()
	set_property(GLOBAL PROPERTY _HEAPCOMP_VM_KERNEL_TEST TRUE)
	add_test(NAME heapcomp_vm_kernel COMMAND "${HEAPCOMP_VM_SCRIPTS}/build-kernel")
	set_tests_properties(heapcomp_vm_kernel PROPERTIES
		LABELS vm
		FIXTURES_SETUP heapcomp_vm_kernel
		TIMEOUT ${HEAPCOMP_VM_KERNEL_TIMEOUT}
		RESOURCE_LOCK heapcomp_vm
		PROCESSORS ${HEAPCOMP_VM_CPUS})
endfunction()

function(heapcomp_add_vm_test)
	cmake_parse_arguments(PARSE_ARGV 0 arg "PCI_DISPLAY" "NAME;TIMEOUT;MEM;CMA;OUT_DIR"
		"COMMAND;ENV;LABELS")
	if(arg_UNPARSED_ARGUMENTS)
		message(FATAL_ERROR "heapcomp_add_vm_test: unknown arguments ${arg_UNPARSED_ARGUMENTS}")
	endif()
	if(NOT arg_NAME OR NOT arg_COMMAND)
		message(FATAL_ERROR "heapcomp_add_vm_test: NAME and COMMAND are required")
	endif()
	_heapcomp_add_vm_kernel_test()

	list(POP_FRONT arg_COMMAND command)
	if(TARGET ${command})
		set(command "$<TARGET_FILE:${command}>")
	endif()
	if(NOT arg_TIMEOUT)
		set(arg_TIMEOUT ${HEAPCOMP_VM_TEST_TIMEOUT})
	endif()

	set(run "${HEAPCOMP_VM_SCRIPTS}/run" --timeout ${arg_TIMEOUT} --cpus ${HEAPCOMP_VM_CPUS})
	if(arg_MEM)
		list(APPEND run --mem ${arg_MEM})
	endif()
	if(arg_CMA)
		list(APPEND run --cma ${arg_CMA})
	endif()
	if(arg_OUT_DIR)
		list(APPEND run --out "${arg_OUT_DIR}")
	endif()
	if(arg_PCI_DISPLAY)
		list(APPEND run --pci-display)
	endif()
	foreach(env IN LISTS arg_ENV)
		list(APPEND run --env "${env}")
	endforeach()

	add_test(NAME ${arg_NAME} COMMAND ${run} -- ${command} ${arg_COMMAND})
	set(labels vm ${arg_LABELS})
	# ctest's own limit is a backstop: scripts/vm/run enforces the real one
	# and reports it, so leave it room to boot and clean up.
	math(EXPR ctest_timeout "${arg_TIMEOUT} + 60")
	set_tests_properties(${arg_NAME} PROPERTIES
		LABELS "${labels}"
		TIMEOUT ${ctest_timeout}
		RESOURCE_LOCK heapcomp_vm
		PROCESSORS ${HEAPCOMP_VM_CPUS}
		FIXTURES_REQUIRED heapcomp_vm_kernel)
endfunction()

function(heapcomp_add_vm_gtest target)
	cmake_parse_arguments(PARSE_ARGV 1 arg "PCI_DISPLAY" "NAME;TIMEOUT;MEM;CMA" "ARGS;ENV;LABELS")
	if(arg_UNPARSED_ARGUMENTS)
		message(FATAL_ERROR "heapcomp_add_vm_gtest: unknown arguments ${arg_UNPARSED_ARGUMENTS}")
	endif()
	if(NOT arg_NAME)
		set(arg_NAME ${target})
	endif()
	set(out "${CMAKE_CURRENT_BINARY_DIR}/vm-results/${arg_NAME}")
	set(extra)
	foreach(key TIMEOUT MEM CMA)
		if(arg_${key})
			list(APPEND extra ${key} ${arg_${key}})
		endif()
	endforeach()
	if(arg_PCI_DISPLAY)
		list(APPEND extra PCI_DISPLAY)
	endif()
	heapcomp_add_vm_test(NAME ${arg_NAME}
		COMMAND ${target} ${arg_ARGS} "--gtest_output=xml:${out}/${arg_NAME}.xml"
		OUT_DIR "${out}"
		ENV ${arg_ENV}
		LABELS gtest ${arg_LABELS}
		${extra})
endfunction()
