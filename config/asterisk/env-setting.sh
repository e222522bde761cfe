#!/bin/sh
# Prints "NAME = value" for an Asterisk config file from an environment variable, for use as
#   #exec /bin/sh /etc/asterisk/env-setting.sh NAME VARIABLE
# (asterisk.conf sets execincludes = yes; docker-compose.yml passes the variables in).
# An empty or unset variable gets a random value nobody knows, never an empty one: the AMI user
# or SIP account is then locked rather than open. (#exec sends stderr into the config too, so
# the note below is written as a config comment.)
name="$1"
var="$2"
eval "value=\${$var:-}"
if [ -z "$value" ]; then
    echo "; $var is empty: $name set to a random value, nobody can log in with it"
    value=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
fi
printf '%s = %s\n' "$name" "$value"
