#pragma once
// The settings a running vixy cannot change: its listeners (address, connection caps, limits they
// enforce) and threads are set up once, at start. A reload keeps their running values and says
// which of them the file changed, so that the operator knows a restart is needed for those.

#include <string>
#include <vector>

#include "config/config.hpp"

namespace vixy::config {

// Gives `next` `running`'s values of the restart-only settings; returns the keys whose value the
// file changed, as the file spells them ("server.listen", "metrics.port"), in a fixed order.
std::vector<std::string> keep_restart_only(Config& next, const Config& running);

}  // namespace vixy::config
