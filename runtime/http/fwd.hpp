#pragma once

/// Forward declarations of `opea::http`'s main types, for headers that only
/// name them (a `std::shared_ptr<client>` member or parameter); include the
/// type's own header where it is used.

namespace opea::runtime::http {

class client;
struct client_config;
struct client_request;
struct client_response;
class stream_handle;
struct json_post;

class server;
struct server_config;
struct request;
struct route;
class response_writer;
class responder;

}  // namespace opea::runtime::http
