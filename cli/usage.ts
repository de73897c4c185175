/** The help texts: one usage line per subcommand (shown with usage errors) and its `--help`. */

/** The subcommands. */
export type Subcommand = 'request' | 'send' | 'keygen' | 'serve' | 'gateway';

/** The one-line synopsis of each subcommand. */
export const USAGE_LINE: Record<Subcommand, string> = {
  request: 'oxenmq request [options] ADDRESS COMMAND [PART...]',
  send: 'oxenmq send [options] ADDRESS COMMAND [PART...]',
  keygen: 'oxenmq keygen [--json] [--seckey KEY|@FILE]',
  serve: 'oxenmq serve (--listen ADDR | --curve-listen ADDR)... [options]',
  gateway: 'oxenmq gateway --listen ws://HOST:PORT/PATH... --upstream ADDRESS --forward PREFIX... [options]',
};

const ADDRESS_AND_PARTS = `\
ADDRESS   tcp://HOST:PORT or ipc://PATH (plain), curve://HOST:PORT/PUBKEY or
          ipc+curve://PATH/PUBKEY (CURVE); PUBKEY in hex, base32z or base64
COMMAND   category.command, e.g. rpc.get_info
PART      a message part: the argument as UTF-8 text (hex with --hex-args),
          @FILE for a file's bytes, - for standard input (once), @@TEXT for
          the text @TEXT; put -- before parts that start with '-'`;

const CONNECT_OPTIONS = `\
  --connect-timeout MS  give up connecting after MS ms (default: --timeout)
  --seckey KEY|@FILE    our X25519 secret key, as hex, base32z or base64 text,
                        or a file holding it as text on its first line (what
                        oxenmq keygen writes) or as 32 raw bytes (as oxend's
                        key_x25519); default: a new random key
  --pubkey KEY          the listener's public key, for an ADDRESS that has
                        none: tcp:// and ipc:// then connect with CURVE
  --hex-args            literal PARTs are hex (not @FILE, -, @@TEXT)
  -v, --verbose         the library's log (connections, warnings) on stderr
  -h, --help            show this help`;

/** The `--help` text of each subcommand. */
export const HELP: Record<Subcommand, string> = {
  request: `\
usage: ${USAGE_LINE.request}

Connects to the OxenMQ listener at ADDRESS, sends COMMAND as a request with
the PARTs, and prints the parts of the reply.

${ADDRESS_AND_PARTS}

Output:
  (default)   each part's bytes as they are, then a newline
  --hex       each part in lower-case hex, one per line
  --json      one JSON array with one element per part: the part as a string
              when it is valid UTF-8, else {"hex": "<hex>"}
  --bt        each part bt-decoded and pretty-printed: integers, "strings",
              0x<hex> for byte strings that are not printable text, [lists],
              {dicts}; a part that is not bt-encoded is shown as a string
              followed by "# not bt-encoded"

Options:
  --timeout MS          wait MS ms for the reply (default 15000)
${CONNECT_OPTIONS}

Exit status:
  0  the reply arrived and was printed
  1  usage error, or a file or key that cannot be used
  2  the remote answered with an error: "FAIL <CODE>" on stderr, CODE being
     FORBIDDEN, FORBIDDEN_SN or NOT_A_SERVICE_NODE (UNKNOWNCOMMAND or
     NO_REPLY_TAG too, should a peer answer a request with them)
  3  no reply within --timeout: "FAIL TIMEOUT" on stderr. OxenMQ does not
     answer a request for an unknown command, so a mistyped COMMAND ends
     here too (--verbose shows the remote's UNKNOWNCOMMAND)
  4  no connection: refused, no socket file or unknown host (told at once),
     wrong server key or not established within --connect-timeout (told
     when it has passed); the reason on stderr
`,
  send: `\
usage: ${USAGE_LINE.send}

Connects to the OxenMQ listener at ADDRESS and sends COMMAND with the PARTs
as a plain message (no reply is expected). Exits once the message has been
handed to the established connection and written out (or after --timeout).

${ADDRESS_AND_PARTS}

Options:
  --timeout MS          how long queued bytes may take to go out (default 15000)
${CONNECT_OPTIONS}

Exit status:
  0  connected and the message was handed to the connection
  1  usage error, or a file or key that cannot be used
  4  no connection (refused, wrong server key, not established within
     --connect-timeout) or the message could not be queued
`,
  keygen: `\
usage: ${USAGE_LINE.keygen}

Makes a new X25519 keypair (the keys of OxenMQ and CURVE) and prints the
secret key in hex on the first line and the public key in hex on the
second. Saved to a file, the output serves as --seckey @FILE of the other
subcommands. Keep it private: it holds the secret key.

Options:
  --json                one JSON object instead:
                        {"seckey": "<hex>", "pubkey": "<hex>",
                         "pubkey_base32z": "<base32z>"}
  --seckey KEY|@FILE    print the keypair of this secret key instead of a
                        new one (text or file, as for request --seckey)
  -h, --help            show this help

Exit status: 0 done, 1 usage error or a key that cannot be used.
`,
  serve: `\
usage: ${USAGE_LINE.serve}

Runs a small OxenMQ node to develop and test against: prints its public key
and the addresses it listens on, then every message that reaches one of its
commands, until SIGINT or SIGTERM.

Commands (category "echo", open to every peer):
  echo.echo   request: replies with the parts it was sent
  echo.ping   request: replies "pong"
  echo.log    plain command: no reply, only printed

Options:
  --listen ADDR         accept plain connections on ADDR: tcp://HOST:PORT
                        (port 0 picks a free port) or ipc://PATH; repeatable
  --curve-listen ADDR   accept CURVE connections on ADDR, same forms;
                        repeatable (at least one of the two is needed)
  --seckey KEY|@FILE    the node's secret key (default: a new random key),
                        as for request --seckey
  --hex                 show message parts in hex
  --json                one JSON object per line (see below)
  --bt                  show message parts bt-decoded and pretty-printed
  -v, --verbose         the library's log (connections, warnings) on stderr
  -h, --help            show this help

Output (text): "pubkey <hex>", one "listening on <address>" per listener,
with the node's key in CURVE addresses (ready to pass to oxenmq request),
then per message a line "<command> [(request)] from <remote>[, pubkey
<hex>]: <n> part(s)" and each part indented on its own line: "text" when
it is printable UTF-8, else 0x<hex>. "stopped" at the end.
Output (--json): one object per line,
  {"event":"listening","pubkey":"<hex>","addresses":["<address>",...]}
  {"event":"message","command":"echo.echo","request":true,
   "remote":"127.0.0.1","pubkey":"<hex>"|null,"parts":[<part>,...]}
  {"event":"stopped"}
with parts as in request --json.

Exit status: 0 stopped by SIGINT/SIGTERM, 1 usage error or a key that
cannot be used, 4 a listener could not be bound.
`,
  gateway: `\
usage: ${USAGE_LINE.gateway}

Serves web pages (or any OxenMQ client) over ZWS 2.0 WebSockets, CURVE by
default, and forwards each request whose command starts with a --forward
PREFIX to the node at --upstream, sending its reply back. Prints its public
key and the addresses pages connect to, until SIGINT or SIGTERM.

A request for a command no prefix forwards is answered UNKNOWNCOMMAND at
once; an error reply of the node is passed on; a client with more than
--max-inflight requests outstanding is disconnected.

Options:
  --listen ADDR         accept connections on ADDR: ws://HOST:PORT/PATH (port
                        0 picks a free port); repeatable
  --upstream ADDRESS    the node: curve://HOST:PORT/PUBKEY (or any ADDRESS
                        oxenmq request takes)
  --forward PREFIX      forward commands starting with PREFIX (e.g. rpc.);
                        repeatable
  --origin ORIGIN       accept browser pages from ORIGIN (e.g.
                        https://app.example, or * for any); repeatable. Without
                        it every request carrying an Origin header is refused
  --plain               serve plaintext WebSockets instead of CURVE
  --seckey KEY|@FILE    the gateway's secret key (default: a new random key),
                        as for request --seckey
  --max-inflight N      outstanding requests per client (default 64)
  --connect-timeout MS  give up reaching the node after MS ms (default 10000)
  --json                one JSON object per line: {"event":"listening",
                        "pubkey":"<hex>","addresses":[...],"forward":[...]},
                        then {"event":"stopped"}
  -v, --verbose         the library's log (connections, warnings) on stderr
  -h, --help            show this help

Exit status: 0 stopped by SIGINT/SIGTERM, 1 usage error or a key that
cannot be used, 4 the node could not be reached or a listener not bound.
`,
};

/** `oxenmq --help`. */
export const OVERVIEW = `\
usage: oxenmq <command> [options] [arguments]

A command-line client (and test node) for OxenMQ, the message and RPC layer
of Oxen nodes.

Commands:
  ${USAGE_LINE.request}
      send a request and print its reply
  ${USAGE_LINE.send}
      send a plain message
  ${USAGE_LINE.keygen}
      make an X25519 keypair
  ${USAGE_LINE.serve}
      run a node with echo.echo, echo.ping and echo.log, printing what it gets
  ${USAGE_LINE.gateway}
      serve WebSocket pages and forward their requests to a node

oxenmq <command> --help shows the options and exit status of a command.
oxenmq --version prints the version.
`;
