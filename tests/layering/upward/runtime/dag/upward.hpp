#pragma once
// A fixture of the layering check (never compiled): the runtime including a
// built-in actor points up the layers, so cmake/CheckLayering.cmake must fail here.
#include "actors/builtins.hpp"
