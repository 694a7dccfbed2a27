#ifndef CREADLINE_SHIM_H
#define CREADLINE_SHIM_H

/* Readline's configuration lives in mutable C globals, which Swift 6's strict concurrency refuses to
   touch; this shim sets them from C and owns the SIGINT flag the interpreter polls. */

/* Generator readline calls for completions: returns a malloc'd candidate or NULL when done. */
typedef char *(*cryo_completion_generator)(const char *text, int state);

/* Configures completion (names only, no filenames), word breaks, and loads the history file. */
void cryo_readline_setup(const char *history_path, cryo_completion_generator generator);

/* Reads one line with the prompt; NULL at end of input (Ctrl-D). The caller frees the line. */
char *cryo_readline(const char *prompt);

/* Adds a line to the history and rewrites the history file. */
void cryo_history_add(const char *line, const char *history_path);

/* Installs the SIGINT handler. It only raises a flag (and wakes the prompt through a pipe); at the prompt
   the line is then abandoned, during evaluation the interpreter polls the flag. */
void cryo_install_sigint_handler(void);

/* Returns 1 (and clears the flag) if Ctrl-C was pressed since the last call. */
int cryo_take_interrupt(void);

#endif
