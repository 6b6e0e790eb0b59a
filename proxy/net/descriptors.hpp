#pragma once
// The process's descriptor budget: RLIMIT_NOFILE raised as far as it goes, and how many client
// connections it affords.

#include <cstdint>

namespace vixy::net {

// Descriptors kept for vixy's own use: listeners, the log, health checks, upstream pools' idle
// connections, the overflow lane and the metrics port.
inline constexpr std::uint64_t kDescriptorReserve = 128;

// Raises the soft RLIMIT_NOFILE to the hard limit, as Go and nginx do: the common soft limit of
// 1024 would cap vixy near 450 clients although the hard limit allows far more. Returns the soft
// limit in force afterwards.
std::uint64_t raise_descriptor_limit();
// The soft RLIMIT_NOFILE now.
std::uint64_t descriptor_limit();

// The default max_connections: every client connection may need a second descriptor for its
// upstream (an HTTP relay, a WebSocket session's node), so (limit - reserve) / 2, at least 1; the
// reserve shrinks to half the limit under tiny limits.
std::uint64_t connections_for_descriptors(std::uint64_t limit);

}  // namespace vixy::net
