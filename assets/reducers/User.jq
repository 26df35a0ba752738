# Users: profile fields, with the times they were created and last changed.
if $event.type == "UserCreated" then $event.data + {createdAt: $event.timestamp}
elif $event.type == "UserUpdated" then . + $event.data + {updatedAt: $event.timestamp}
else . end
