#pragma once
// Upstream URLs carry secrets (paid providers put API keys in the userinfo, the path or the
// query, and no rule tells a short key from a route). Everything that leaves the process (logs,
// /status) shows URLs only through this; the node's name says which one it is.

#include <string>
#include <string_view>

namespace vixy::net {

// The URL as scheme, host and port only: userinfo becomes "***@", and a path other than "/" or a
// query becomes "/***", whatever their length ("https://***@host:8545/***"). A URL with nothing to
// hide keeps its form ("http://host:8545", "http://host:8545/"). The fragment is dropped. Input that
// does not parse as a URL with a host is replaced whole by "***".
std::string redact_url(std::string_view url);

}  // namespace vixy::net
