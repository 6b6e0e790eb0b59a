#pragma once
// What a configuration means to the WebSocket cores: the session core's and the node
// multiplexer's settings, derived in one place for the hub and for the harness's simulation
// (chaos/sim.hpp), which must run the cores as vixy deploys them.

#include "config/config.hpp"
#include "ws/multiplexer.hpp"
#include "ws/session_core.hpp"

namespace vixy::ws {

SessionSettings session_settings(const config::Config& config);
mux::Settings mux_settings(const config::Config& config);

}  // namespace vixy::ws
