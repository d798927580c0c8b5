import os
import platform
import time

greeting = os.environ.get("FEDML_ENV_GREETING_TEXT", "Hello")
print(f"{greeting}!")
print(f"python {platform.python_version()} on {platform.system()}")
for step in range(1, 4):
    print(f"step {step}/3")
    time.sleep(0.2)
print("hello world finished")
