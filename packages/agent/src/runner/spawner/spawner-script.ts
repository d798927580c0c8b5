/**
 * The spawner's program, run by `perl -e` (perl-base: every Debian and Ubuntu machine has it,
 * and its POSIX module). A process of a few MB forks a job far more cheaply than the agent's
 * Node process of 60+ MB can (page tables copied, then copy-on-write faults in the agent), and
 * the agent's event loop never blocks in fork. A shell cannot do the job: an `&` list of a
 * shell without job control starts with SIGINT and SIGQUIT ignored (and the job would inherit
 * that), and it has no setsid, setuid or mkfifo, nor a way to tell an exit code from a signal.
 *
 * Requests on stdin: a count, then that many fields, each ended by a NUL byte:
 *   id, stdout fifo, stderr fifo, cwd, uid, gid ("" for neither), n, n cgroup files,
 *   m, m "NAME=value" environment entries, then the argv.
 * Answers on stdout, a line each: `pid <id> <pid>` (from the child, once it is in its session,
 * cgroups and user, just before exec), `exit <id> <code> <signal>` (one of the
 * two empty), `error <id> <why>` (its process could not become the job; its `exit` follows),
 * `refused <id> <why>` (nothing was forked).
 *
 * Each job: the write ends of its two fifos are opened before the fork (the agent has their
 * read ends open already, so neither blocks), so by the time `pid` is told the job holds
 * them and the agent sees the end of its output exactly as with a pipe. The child makes a
 * session of its own (stop reaches its group), writes itself into the run's cgroups (nothing
 * of the job runs outside them), drops to the job's user, takes the job's environment and
 * directory, and execs the argv without a shell. It exits when stdin closes (the agent is
 * gone); running jobs carry on, as they would without it.
 */
export const SPAWNER_SCRIPT = String.raw`
use strict;
use POSIX ();
use Fcntl qw(O_WRONLY);
$| = 1;
my %kids;
my $chld = POSIX::SigSet->new(&POSIX::SIGCHLD);
my $none = POSIX::SigSet->new;
my $old = POSIX::SigSet->new;
sub reap {
  while ((my $pid = waitpid(-1, &POSIX::WNOHANG)) > 0) {
    my $id = delete $kids{$pid};
    next unless defined $id;
    my $status = $?;
    if (POSIX::WIFSIGNALED($status)) { print "exit $id  " . POSIX::WTERMSIG($status) . "\n"; }
    else { print "exit $id " . POSIX::WEXITSTATUS($status) . " \n"; }
  }
}
$SIG{CHLD} = \&reap;
sub one_line { my $s = shift; $s =~ s/[\r\n]+/ /g; return $s; }
sub start {
  my @f = @_;
  my ($id, $out, $err, $cwd, $uid, $gid) = splice(@f, 0, 6);
  my @cgroups = splice(@f, 0, shift @f);
  my @env = splice(@f, 0, shift @f);
  my @argv = @f;
  my ($o, $e);
  # The agent holds the read ends open already: these opens do not wait.
  unless (sysopen($o, $out, O_WRONLY) && sysopen($e, $err, O_WRONLY)) {
    print "refused $id cannot open the job's output pipes: " . one_line("$!") . "\n";
    return;
  }
  POSIX::sigprocmask(&POSIX::SIG_BLOCK, $chld, $old);
  my $pid = fork();
  if (!defined $pid) {
    print "refused $id cannot fork: " . one_line("$!") . "\n";
  } elsif ($pid == 0) {
    child($id, $o, $e, $cwd, $uid, $gid, \@cgroups, \@env, \@argv);
  } else {
    $kids{$pid} = $id;
  }
  close $o;
  close $e;
  POSIX::sigprocmask(&POSIX::SIG_SETMASK, $old);
}
sub child {
  my ($id, $o, $e, $cwd, $uid, $gid, $cgroups, $env, $argv) = @_;
  $SIG{CHLD} = 'DEFAULT';
  # Close-on-exec (above $^F): says why the job did not start, and is gone once it has.
  open(my $report, '>&', \*STDOUT);
  my $fail = sub { syswrite($report, "error $id " . one_line($_[0]) . "\n"); POSIX::_exit(127); };
  POSIX::setsid();
  for my $file (@$cgroups) {
    my $c;
    sysopen($c, $file, O_WRONLY) && defined(syswrite($c, "$$")) && close($c)
      or $fail->("cannot put the job in its cgroup: $file: $!");
  }
  if ($gid ne '') {
    $) = "$gid $gid";
    POSIX::setgid($gid) or $fail->("cannot take group $gid: $!");
  }
  if ($uid ne '') {
    POSIX::setuid($uid) or $fail->("cannot take user $uid: $!");
    $fail->("still privileged after taking user $uid") if $< != $uid || $> != $uid;
  }
  chdir($cwd) or $fail->("cannot enter $cwd: $!");
  %ENV = ();
  for (@$env) { my ($k, $v) = split(/=/, $_, 2); $ENV{$k} = $v; }
  open(STDIN, '<', '/dev/null') or $fail->("cannot open /dev/null: $!");
  POSIX::dup2(fileno($o), 1) or $fail->("cannot give the job its stdout: $!");
  POSIX::dup2(fileno($e), 2) or $fail->("cannot give the job its stderr: $!");
  $SIG{$_} = 'DEFAULT' for qw(PIPE INT QUIT TERM HUP);
  POSIX::sigprocmask(&POSIX::SIG_SETMASK, $none);
  # Told only now: whoever stops the job from here on finds its session and its cgroup.
  syswrite($report, "pid $id $$\n");
  exec { $argv->[0] } @$argv;
  $fail->("cannot run $argv->[0]: $!");
}
my $buf = '';
my $in = '';
vec($in, fileno(STDIN), 1) = 1;
while (1) {
  # A SIGCHLD that lands between perl's deferred-signal check and a blocking read would leave
  # its job unreported until the next request: wait at most a tenth of a second, then reap.
  my $ready = select(my $r = $in, undef, undef, 0.1);
  reap();
  next if $ready <= 0;
  my $n = sysread(STDIN, $buf, 65536, length $buf);
  if (!defined $n) { next if $!{EINTR}; last; }
  last if $n == 0;
  while (1) {
    my $p = index($buf, "\0");
    last if $p < 0;
    my $count = substr($buf, 0, $p);
    my ($pos, @fields) = ($p + 1);
    for (1 .. $count) {
      my $q = index($buf, "\0", $pos);
      last if $q < 0;
      push @fields, substr($buf, $pos, $q - $pos);
      $pos = $q + 1;
    }
    last if @fields < $count;
    substr($buf, 0, $pos, '');
    start(@fields);
  }
}
`;
