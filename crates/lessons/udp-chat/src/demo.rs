//! `udp-chat demo`: two chat endpoints, alice and bob, in one process on ports the OS chooses,
//! with a short canned conversation. Alice knows bob's address (like `--peer`); bob does not
//! and replies to whoever wrote last. Each side's lines carry its name.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use anyhow::bail;
use clap::Args;
use common::cli::TraceArg;
use common::{Addr, Console, Encoding};

use crate::chat::{Chat, Flow};

/// How long the demo waits for a message to arrive before it calls it lost.
const PATIENCE: Duration = Duration::from_secs(5);

/// `udp-chat demo`.
#[derive(Args, Clone, Debug)]
pub struct Options {
    #[command(flatten)]
    pub trace: TraceArg,
}

#[derive(Clone, Copy)]
enum Who {
    Alice,
    Bob,
}

/// The conversation: who types what, in order.
const SCRIPT: [(Who, &str); 4] = [
    (Who::Alice, "hi bob, are you there?"),
    (Who::Bob, "在的！收到了。"),
    (Who::Alice, "UDP 没有连接，我们也能聊天。"),
    (
        Who::Bob,
        "yes: no connect, no accept, just datagrams. 再见！",
    ),
];

// ANCHOR: demo
/// Binds two chats on 127.0.0.1:0, starts each one's receiving thread, plays the script (each
/// line once the previous one has arrived, so the conversation reads in order), then quits both.
pub fn run(options: &Options) -> anyhow::Result<()> {
    let trace = options.trace.trace;
    let localhost = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let alice = Chat::bind(
        localhost,
        Encoding::UTF_8,
        Console::new(trace).with_prefix("[alice] "),
    )?;
    let bob = Chat::bind(
        localhost,
        Encoding::UTF_8,
        Console::new(trace).with_prefix("[bob] "),
    )?;
    alice.choose_peer(&Addr::from_socket_addr(bob.local_addr()))?;
    bob.no_peer_yet();

    let (heard, arrivals) = mpsc::channel();
    thread::scope(|scope| {
        for chat in [&alice, &bob] {
            let heard = heard.clone();
            // A demo that has stopped listening (after an error) needs no more news.
            scope.spawn(move || {
                chat.receive(|| {
                    let _ = heard.send(());
                })
            });
        }
        let result = converse(&alice, &bob, &arrivals);
        // Both receiving threads must end, or the scope would wait for them forever.
        alice.stop();
        bob.stop();
        result
    })?;
    alice.close();
    bob.close();
    Ok(())
}

/// Types each line of the script on its speaker's side and waits until the other side got it.
fn converse(alice: &Chat, bob: &Chat, arrivals: &mpsc::Receiver<()>) -> anyhow::Result<()> {
    for (who, line) in SCRIPT {
        let speaker = match who {
            Who::Alice => alice,
            Who::Bob => bob,
        };
        if speaker.handle(line) == Flow::Quit {
            break;
        }
        if arrivals.recv_timeout(PATIENCE).is_err() {
            bail!("{line:?} did not arrive within {} s", PATIENCE.as_secs());
        }
    }
    for chat in [alice, bob] {
        chat.handle("/quit");
    }
    Ok(())
}
// ANCHOR_END: demo
