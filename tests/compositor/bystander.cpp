/* SPDX-License-Identifier: MIT */
#include "bystander.h"

#include <ios>

namespace heapcomp::test {

Bystander::Bystander(ServerRunner &server)
	: client(server.socket()), server_(server), window_(client, "bystander"),
	  buffer_(client.shm, 32, 32)
{
	buffer_.fill(0xff00ff00);
	if (!window_.waitConfigure())
		return;
	window_.ack();
	ready_ = window_.present(buffer_.buffer(), 32, 32) && server_.drawFrames(2);
}

::testing::AssertionResult Bystander::stillServed()
{
	if (!client.roundtrip())
		return ::testing::AssertionFailure() << "the bystander lost its connection";
	buffer_.fill(0xff0000ff);
	if (!window_.present(buffer_.buffer(), 32, 32))
		return ::testing::AssertionFailure() << "the bystander's frame never came";
	const uint32_t pixel = server_.screenshot().at(5, 5);
	if (pixel != 0xff0000ffu)
		return ::testing::AssertionFailure() << "the screen shows " << std::hex << pixel
						     << " where the bystander drew ff0000ff";
	return ::testing::AssertionSuccess();
}

} /* namespace heapcomp::test */
