#pragma once
// Upstream URLs carry secrets (paid providers put API keys in the userinfo, the path or the
// query). Everything that leaves the process (logs, /status) shows URLs only through this.

#include <string>
#include <string_view>

namespace vixy::net {

// The URL with its userinfo, its query string and every path segment that looks like an API key
// replaced by "***". Scheme, host, port and ordinary path segments stay readable. Input that does
// not parse as a URL is replaced whole by "***".
std::string redact_url(std::string_view url);

// True when a path segment looks like a credential rather than a route: long, and made of
// key-like characters mixing letters and digits (Infura's /v3/<32 hex>, Alchemy's /v2/<key>, ...).
bool looks_like_api_key(std::string_view path_segment);

}  // namespace vixy::net
