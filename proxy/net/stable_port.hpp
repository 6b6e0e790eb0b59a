#pragma once
// Ports for listeners that must be re-opened on the same port after a simulated crash (a fake
// node's or a fault injector's "restart"). A port from the kernel's ephemeral range can be taken
// meanwhile as the source port of any outgoing connection; on loopback a client retrying the dead
// port can even connect to itself on it. Ports below that range are never handed out that way.

#include <cstdint>
#include <functional>

#include <boost/system/error_code.hpp>

namespace vixy::net {

// Calls `try_bind(port)` with random ports below the ephemeral range until one succeeds (returns
// no error); after `attempts` failures it falls back to `try_bind(0)`. Returns the last result.
boost::system::error_code bind_stable_port(const std::function<boost::system::error_code(std::uint16_t)>& try_bind,
                                           int attempts = 64);

}  // namespace vixy::net
