/* GNU readline and history (Debian: libreadline-dev). */
#include <stdio.h>
#include <readline/readline.h>
#include <readline/history.h>
