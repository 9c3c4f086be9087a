#!/bin/sh
# The run lease of the devicemapper and migrate roles on this host: one file of key=value
# lines naming the run that holds it (token=... first), the step it reached and when it
# expires (host time, seconds since the epoch). The decisions are the controller's
# (plugins/plugin_utils/_lease.py, the run_lease filter); this script reads, and writes
# only the lease it is told of. Every write runs under the collection's host lock (the
# tasks pass run_script's host_lock: true) and is atomic (a root-only temporary file
# beside the lease, flushed, renamed over it).
#   read                   @@path, @@lease (its content), @@lease_sha (sha256, or none), @@now
#   take SHA SECONDS BODY  writes BODY, renewed= and expires=, if the lease is still the one
#                          whose sha256 was SHA ("none": there was none); else exits 75. A
#                          broke= line in BODY is also appended to the break log (LEASE.log)
#   renew TOKEN SECONDS STEP  rewrites the lease with step=STEP and a new expiry, if it is
#                          still held by TOKEN; else exits 75 (this run lost it)
#   release TOKEN          removes the lease if it is held by TOKEN and says 'released';
#                          says 'not held by this run' otherwise (a lease of another run stays)
set -eu
umask 077
# The tests point it elsewhere; the roles use the default.
lease=${CONTAINER_STORAGE_LEASE_FILE:-/var/lib/container-storage-devicemapper/run.lease}

sha() {
  if [ -f "$lease" ]; then s=$(sha256sum < "$lease"); echo "${s%% *}"; else echo none; fi
}

holder() {
  t=
  if [ -f "$lease" ]; then
    while IFS= read -r line; do
      case $line in token=*) t=${line#token=} ;; esac
    done < "$lease"
  fi
  printf '%s\n' "$t"
}

write() {
  mkdir -p -- "${lease%/*}"
  tmp=$(mktemp -- "$lease.XXXXXX")
  trap 'rm -f -- "$tmp"' EXIT
  printf '%s\n' "$1" > "$tmp"
  sync -- "$tmp"
  mv -f -- "$tmp" "$lease"
  trap - EXIT
}

case $1 in
  read)
    echo '@@path'
    echo "$lease"
    echo '@@lease'
    if [ -f "$lease" ]; then cat -- "$lease"; echo; fi
    echo '@@lease_sha'
    sha
    echo '@@now'
    date +%s
    ;;
  take)
    now=$(date +%s)
    found=$(sha)
    if [ "$found" != "$2" ]; then
      echo "another run took this host's run lease $lease since this run read it; nothing was changed. It holds:" >&2
      cat -- "$lease" >&2
      exit 75
    fi
    write "$4
renewed=$now
expires=$((now + $3))"
    case $4 in
      *broke=*) printf '%s\n' "$4" | while IFS= read -r line; do
          case $line in broke=*) printf '%s\n' "${line#broke=}" >> "$lease.log" ;; esac
        done ;;
    esac
    echo taken
    ;;
  renew)
    now=$(date +%s)
    found=$(holder)
    if [ "$found" != "$2" ]; then
      echo "this run no longer holds the host's run lease $lease (another run broke or took it); stopping before the step '$4'. The lease now:" >&2
      if [ -f "$lease" ]; then cat -- "$lease" >&2; else echo "(none)" >&2; fi
      exit 75
    fi
    body=
    while IFS= read -r line; do
      case $line in step=* | renewed=* | expires=*) ;; *) body="$body$line
" ;;
      esac
    done < "$lease"
    write "${body}step=$4
renewed=$now
expires=$((now + $3))"
    echo renewed
    ;;
  release)
    found=$(holder)
    if [ -n "$found" ] && [ "$found" = "$2" ]; then
      rm -f -- "$lease"
      echo released
    else
      echo 'not held by this run'
    fi
    ;;
  *)
    echo "lease.sh: unknown operation '$1' (read, take, renew, release)" >&2
    exit 2
    ;;
esac
