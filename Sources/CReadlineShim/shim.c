#include "CReadlineShim.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <readline/readline.h>
#include <readline/history.h>

static volatile sig_atomic_t interrupted = 0;
static volatile sig_atomic_t in_readline = 0;
/* Self-pipe: the handler writes a byte so a blocked read at the prompt wakes up, whichever thread got the signal. */
static int wake_pipe[2] = {-1, -1};
static cryo_completion_generator completion_generator = NULL;

static char **attempt_completion(const char *text, int start, int end) {
    (void)start; (void)end;
    rl_attempted_completion_over = 1;
    return completion_generator ? rl_completion_matches(text, completion_generator) : NULL;
}

static void drain_wake_pipe(void) {
    char scratch[64];
    if (wake_pipe[0] < 0) return;
    while (read(wake_pipe[0], scratch, sizeof scratch) > 0) {}
}

/* Readline's character source: waits on the terminal and the wake pipe. On Ctrl-C it empties the line
   and answers Enter, so readline returns "" through its normal path (no readline call from a handler). */
static int getc_or_interrupt(FILE *stream) {
    int fd = fileno(stream);
    for (;;) {
        if (interrupted) {
            drain_wake_pipe();
            rl_replace_line("", 0);
            return '\n';
        }
        struct pollfd fds[2] = {{fd, POLLIN, 0}, {wake_pipe[0], POLLIN, 0}};
        int ready = poll(fds, wake_pipe[0] >= 0 ? 2 : 1, -1);
        if (ready < 0) {
            if (errno == EINTR) continue;
            return EOF;
        }
        if (fds[1].revents & POLLIN) continue;
        if (!(fds[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        unsigned char c;
        ssize_t n = read(fd, &c, 1);
        if (n == 1) return c;
        if (n < 0 && errno == EINTR) continue;
        return EOF;
    }
}

void cryo_readline_setup(const char *history_path, cryo_completion_generator generator) {
    completion_generator = generator;
    rl_attempted_completion_function = attempt_completion;
    rl_basic_word_break_characters = " \t\n()[]{},:;=+-*/%@|<>\"";
    rl_catch_signals = 0;
    if (wake_pipe[0] < 0 && pipe(wake_pipe) == 0) {
        fcntl(wake_pipe[0], F_SETFL, O_NONBLOCK);
        fcntl(wake_pipe[1], F_SETFL, O_NONBLOCK);
    }
    rl_getc_function = getc_or_interrupt;
    using_history();
    if (history_path) read_history(history_path);
}

char *cryo_readline(const char *prompt) {
    drain_wake_pipe();
    in_readline = 1;
    char *line = readline(prompt);
    in_readline = 0;
    return line;
}

void cryo_history_add(const char *line, const char *history_path) {
    if (!line || !*line) return;
    add_history(line);
    if (history_path) write_history(history_path);
}

static void on_sigint(int signo) {
    (void)signo;
    interrupted = 1;
    if (in_readline && wake_pipe[1] >= 0) {
        int saved = errno;
        (void)!write(wake_pipe[1], "!", 1);
        errno = saved;
    }
}

void cryo_install_sigint_handler(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_sigint;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(SIGINT, &action, NULL);
}

int cryo_take_interrupt(void) {
    if (!interrupted) return 0;
    interrupted = 0;
    return 1;
}
