#pragma once
// `vixy-chaos inject`: one fault injector in front of HOST:PORT, driven by hand (or a script)
// through a small loopback HTTP control API.

#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace vixy::chaos {

class FaultInjector;

// Runs until SIGTERM or SIGINT; the process exit code (2 for a usage error).
int run_inject(const std::vector<std::string_view>& args);

// One control request against `injector`: method GET/POST, path, raw body. Returns the HTTP
// status and the JSON answer ({"ok":true,"state":...} or {"ok":false,"error":"..."}).
std::pair<int, nlohmann::json> control_request(FaultInjector& injector, bool is_get, std::string_view path,
                                               std::string_view body);

}  // namespace vixy::chaos
