#pragma once
// The request target a CL node gets for a client's /cl/<suffix>. Providers keep API keys in the
// node URL's path (https://beacon.example/KEY/) or query (?apikey=KEY), so a client must neither
// step out of that path (dot segments, encoded slashes, backslashes: each a way some server
// normalises "/KEY/../x" into "/x") nor override a parameter the URL sets. Pure: no I/O (fuzzed).

#include <optional>
#include <string>
#include <string_view>

#include "net/upstream_url.hpp"
#include "text/result.hpp"

namespace vixy::http {

// What is wrong with the path of `client_suffix` (the part of the client's target after "/cl",
// e.g. "/eth/v1/events?topics=head"), as a message for the client; nullopt when it may be
// forwarded. Refused: dot segments ("." and "..", also percent-encoded in any case, and before a
// ';' parameter), empty segments (a single trailing '/' is allowed), backslashes, encoded slashes,
// control bytes (raw or encoded, NUL included), malformed percent-escapes, and a '#' anywhere.
std::optional<std::string> cl_path_problem(std::string_view client_suffix);

// The target for `client_suffix` on the node at `url`: the URL's path joined with the client's
// path, then the URL's query parameters followed by the client's, except a client parameter whose
// name (percent-decoded, case-insensitive) the URL already sets. When cl_path_problem refuses the
// suffix, its problem instead.
Result<std::string> cl_upstream_target(const net::UpstreamUrl& url, std::string_view client_suffix);

}  // namespace vixy::http
