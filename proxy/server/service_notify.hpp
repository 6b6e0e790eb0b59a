#pragma once
// Tells the service manager (systemd, Type=notify) what vixy is doing: READY=1 once the listeners
// are open, RELOADING=1 and READY=1 around a reload, STOPPING=1 when shutdown begins.
//
// The protocol (sd_notify(3)) is one datagram of "KEY=VALUE" lines to the AF_UNIX socket named by
// $NOTIFY_SOCKET; systemd documents it as stable. It is written here rather than linked from
// libsystemd: a dozen lines instead of a library every build machine and package must carry.
// Without $NOTIFY_SOCKET (not started by systemd) nothing is sent.

#include <string_view>

namespace vixy::server {

// Sends `state` (e.g. "READY=1\nSTATUS=serving"); false when there is a socket and sending failed.
bool notify_service(std::string_view state);

}  // namespace vixy::server
